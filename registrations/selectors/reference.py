"""Look-ups in the reference registers that admission needs (spec §3.3)."""

from django.db import transaction

from registrations.domain.vocabulary import Sector
from registrations.models import DeclarationOfWorks, DeclarationParty


def workplace_sectors(workplace_ids: set[str]) -> dict[str, Sector]:
    """The sector of each known Declaration of Works; unknown workplaces are absent."""
    rows = DeclarationOfWorks.objects.filter(number__in=workplace_ids).values_list("number", "sector")
    return {number: Sector(sector) for number, sector in rows}


@transaction.atomic
def declaration_sync_builder(declaration: DeclarationOfWorks) -> None:
    """Keep the parties list's builder row equal to `declaration.builder`: visibility (§8)
    and remark 12 read the parties, operators edit the builder field."""
    parties = DeclarationParty.objects.filter(declaration=declaration, role=DeclarationParty.Role.BUILDER)
    parties.exclude(enterprise_number=declaration.builder).delete()
    DeclarationParty.objects.get_or_create(
        declaration=declaration, enterprise_number=declaration.builder, role=DeclarationParty.Role.BUILDER
    )
