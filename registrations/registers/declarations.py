"""Keeping a Declaration of Works' parties consistent when an operator edits it."""

from django.db import transaction

from registrations.models import DeclarationOfWorks, DeclarationParty


@transaction.atomic
def declaration_sync_builder(declaration: DeclarationOfWorks) -> None:
    """Keep the parties list's builder row equal to `declaration.builder`: visibility (§8)
    and remark 12 read the parties, operators edit the builder field."""
    parties = DeclarationParty.objects.filter(declaration=declaration, role=DeclarationParty.Role.BUILDER)
    parties.exclude(enterprise_number=declaration.builder).delete()
    DeclarationParty.objects.get_or_create(
        declaration=declaration, enterprise_number=declaration.builder, role=DeclarationParty.Role.BUILDER
    )
