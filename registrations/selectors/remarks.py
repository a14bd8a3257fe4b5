"""How often each remark occurs among a set of registrations: one grouped query, whatever
their number (few distinct remark sets exist), then counted per remark."""

from collections import Counter

from django.db.models import Count, QuerySet

from registrations.domain.remarks import remarks_in_mask
from registrations.models import Registration


def remark_counts(registrations: QuerySet[Registration], *, top: int | None = None) -> list[tuple[int, int]]:
    """(remark number, registrations carrying it), most frequent first (then by number);
    at most `top` of them when given."""
    masks = registrations.exclude(remark_mask=0).values("remark_mask").annotate(n=Count("id")).order_by()
    counts: Counter[int] = Counter()
    for row in masks:
        for number in remarks_in_mask(row["remark_mask"]):
            counts[number] += row["n"]
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return ranked if top is None else ranked[:top]
