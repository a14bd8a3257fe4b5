"""Look-ups in the reference registers that admission needs (spec §3.3)."""

from registrations.domain.vocabulary import Sector
from registrations.models import DeclarationOfWorks


def workplace_sectors(workplace_ids: set[str]) -> dict[str, Sector]:
    """The sector of each known Declaration of Works; unknown workplaces are absent."""
    rows = DeclarationOfWorks.objects.filter(number__in=workplace_ids).values_list("number", "sector")
    return {number: Sector(sector) for number, sector in rows}
