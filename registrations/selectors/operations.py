"""What the people who run the service watch (health checks, metrics; docs/operations.md).

Each read is cheap enough to run on every probe and every scrape, whatever the size of the
registrations table: the waiting registrations are read through the partial index
`reg_waiting_validation` (created_at WHERE status = 'registered'), which holds only the
registrations not yet validated, and are counted up to a cap, never in full.
"""

from datetime import datetime

from cryptography import x509

from registrations.domain.vocabulary import Status
from registrations.models import Client, Registration


def oldest_waiting_validation() -> datetime | None:
    """When the oldest registration still waiting for its validation was created, or None."""
    oldest: datetime | None = (
        Registration.objects.filter(status=Status.REGISTERED)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    return oldest


def waiting_validation_count(*, cap: int) -> int:
    """How many registrations wait for validation, counted up to `cap` (a backlog beyond it is
    reported as `cap`: the alert needs to know it is large, not how large to the row)."""
    return Registration.objects.filter(status=Status.REGISTERED).values("id")[:cap].count()


def earliest_client_certificate_expiry() -> datetime | None:
    """When the first registered certificate of an active client expires, or None.

    Parsed from the certificates themselves: a few hundred clients at most, so the metrics
    collector keeps the answer for some minutes rather than adding a column.
    """
    earliest: datetime | None = None
    pems = Client.objects.filter(is_active=True).exclude(certificate_pem="").values_list("certificate_pem", flat=True)
    for pem in pems:
        try:
            expires = x509.load_pem_x509_certificate(pem.encode()).not_valid_after_utc
        except ValueError:  # registered through the services, which check it; never fail a scrape
            continue
        if earliest is None or expires < earliest:
            earliest = expires
    return earliest
