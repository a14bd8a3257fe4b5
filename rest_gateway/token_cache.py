"""Bearer tokens' principals kept in the shared cache for the token's life (issue 14).

Without it every API call reads its token and client (and a professional's mandates) from the
database. An entry is found by the SHA-256 of the token, as the token's row is: the token in
clear is never a key nor a value. An entry holds the principal, the token's expiry and the
clients' stamp read before the database was (registrations/services/client_stamp.py); it is
used only while that stamp is still current and the token not expired, so revoking a token,
deactivating a client, rotating or revoking its key or certificate, or changing its mandates
or clock takes effect on the next call, in every process.

The cache is REST_THROTTLE_CACHE (Redis under REST_CACHE_URL). While it does not answer, every
call reads the database as before: slower, never refused for that, never accepting a token
the database would refuse. Refusals are not kept: an unknown token costs its query each time
(and a flood of them belongs to the reverse proxy, as before).
"""

import logging
import math
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.db.models.signals import post_save
from django.utils import timezone
from redis.exceptions import RedisError

from registrations.services.client_stamp import STAMP_KEY, client_shape, clients_changed, clients_stamp
from rest_gateway.models import AccessToken

if TYPE_CHECKING:
    from rest_gateway.auth import Principal

logger = logging.getLogger(__name__)


# A deployment that changes the client model or the caller reads none of the entries pickled
# by the code before it: a miss, not an unpickling error.
KEY_PREFIX = f"rest:token:{client_shape()}:"


@dataclass(frozen=True)
class _Entry:
    principal: "Principal"
    expires_at: datetime
    stamp: str


def _cache() -> BaseCache:
    return caches[settings.REST_THROTTLE_CACHE]


def kept_principal(digest: str) -> tuple["Principal | None", str | None]:
    """The principal kept for the token whose SHA-256 is `digest`, if still good, and the
    current stamp to keep a fresh one under (None: keep nothing, the cache did not answer).
    One round trip: the entry and the stamp are read together."""
    key = KEY_PREFIX + digest
    try:
        found = _cache().get_many([key, STAMP_KEY])
    except RedisError as exc:
        logger.warning("token cache unreachable, reading the token from the database: %s", type(exc).__name__)
        return None, None
    entry, stamp = found.get(key), found.get(STAMP_KEY)
    if stamp is None:
        stamp = clients_stamp()  # the first read since the cache started empty
    if isinstance(entry, _Entry) and entry.stamp == stamp and entry.expires_at > timezone.now():
        return entry.principal, stamp
    return None, stamp


def keep_principal(digest: str, principal: "Principal", *, expires_at: datetime, stamp: str | None) -> None:
    """Keep `principal` until the token expires, under the stamp read before the database."""
    seconds = math.ceil((expires_at - timezone.now()).total_seconds())
    if stamp is None or seconds <= 0:
        return
    try:
        _cache().set(KEY_PREFIX + digest, _Entry(principal, expires_at, stamp), timeout=seconds)
    except RedisError as exc:
        logger.warning("token cache unreachable, the token is not kept: %s", type(exc).__name__)


def _token_saved(sender: object, created: bool = False, **kwargs: object) -> None:
    if not created:  # a revocation; a new token has nothing kept yet
        clients_changed()


def connect_token_revocation() -> None:
    """A token saved again (revoked) sets a new clients' stamp. Deletes send nothing: the
    hourly purge deletes expired tokens only, which no entry outlives; a token deleted
    before it expires goes with its client, whose deletion sets the stamp."""
    post_save.connect(_token_saved, sender=AccessToken, dispatch_uid="token-cache-token-saved")
