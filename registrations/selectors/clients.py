"""Client look-ups: the sender a gateway authenticated, and what it may do (spec §8)."""

from collections.abc import Iterable
from uuid import UUID

from registrations.domain.authorisation import Caller, CallerRole
from registrations.domain.vocabulary import ClientRole
from registrations.models import Client


def caller_for_client(client: Client) -> Caller:
    """The `Caller` an authenticated client acts as; a professional's mandates are read here."""
    mandates: frozenset[str] = frozenset()
    if client.role == ClientRole.PROFESSIONAL:
        mandates = frozenset(client.mandates.values_list("enterprise_number", flat=True))
    return Caller(
        role=CallerRole(client.role),
        actor=f"client:{client.id}",
        client_id=client.id,
        enterprise_number=client.enterprise_number,
        mandates=mandates,
        clock_offset=client.clock_offset,
    )


def active_client_with_certificate(*, fingerprint: str) -> Client | None:
    """The active client whose registered certificate has this SHA-256 (SOAP authentication)."""
    return Client.objects.filter(certificate_fingerprint=fingerprint, is_active=True).first()


def active_client(*, client_id: UUID) -> Client | None:
    """The active client `client_id`, or None."""
    return Client.objects.filter(pk=client_id, is_active=True).first()


def active_client_with_key(*, client_id: UUID) -> Client | None:
    """The active client `client_id` with a registered public key (REST token requests)."""
    return Client.objects.filter(pk=client_id, is_active=True).exclude(public_key_pem="").first()


def client_rate_limit(*, client_id: UUID) -> str:
    """The client's own rate limit ("600/minute"), or "" when it uses the gateway's default
    (or no longer exists)."""
    own: str | None = Client.objects.filter(pk=client_id).values_list("rate_limit", flat=True).first()
    return own or ""


CLIENT_ACTOR_PREFIX = "client:"


def client_names(*, actors: Iterable[str]) -> dict[str, str]:
    """The name of each client among history actors ("client:<uuid>" -> its name), in one
    query; an actor that is no client, or a client since removed, is left out."""
    ids: set[UUID] = set()
    for actor in actors:
        if actor.startswith(CLIENT_ACTOR_PREFIX):
            try:
                ids.add(UUID(actor.removeprefix(CLIENT_ACTOR_PREFIX)))
            except ValueError:
                continue
    if not ids:
        return {}
    rows = Client.objects.filter(pk__in=ids).values_list("pk", "name")
    return {f"{CLIENT_ACTOR_PREFIX}{pk}": name for pk, name in rows}
