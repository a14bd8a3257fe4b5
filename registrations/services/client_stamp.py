"""The clients' change stamp: what lets a gateway cache what it derives from a client row.

A gateway may keep, for a while, what it read about a client (the REST gateway keeps each
bearer token's client, scopes and caller for the token's life). Every entry it keeps carries
the stamp current when it read the database; an entry whose stamp is no longer current is
not used. Any change to a client that could end or narrow its access (deactivation, a key or
certificate rotated or revoked, a mandate added or removed, a token revoked) sets a new stamp,
so every entry kept so far is dropped at once, in every process: one key in the shared cache
(REST_THROTTLE_CACHE: Redis under REST_CACHE_URL; process memory on the embedded default,
which is one process).

The stamp is a random value, not a counter: a stamp lost with a restarted (or evicting)
Redis comes back as a value no entry carries. It is set twice around a change: before the
change commits, and again once it has; the second closes the race of a reader that read the
old row just before the commit and stores its entry after the first stamp. The first must
succeed: a change that could not set it is refused (ClientCacheUnavailableError, the transaction
rolls back), because a change committed with the old stamp still current would let a revoked
token through until it expires.
"""

import hashlib
import logging
import secrets
from dataclasses import fields

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from redis.exceptions import RedisError

from registrations.domain.authorisation import Caller
from registrations.models import Client, ClientMandate

logger = logging.getLogger(__name__)

STAMP_KEY = "clients:stamp"


class ClientCacheUnavailableError(RuntimeError):
    """The shared cache did not answer: the change to the client was not made."""


def _cache() -> BaseCache:
    return caches[settings.REST_THROTTLE_CACHE]


def clients_stamp() -> str | None:
    """The current stamp (set now if there is none); None while the cache does not answer."""
    try:
        stamp: str | None = _cache().get(STAMP_KEY)
        if stamp is None:
            _cache().add(STAMP_KEY, secrets.token_hex(16), timeout=None)
            stamp = _cache().get(STAMP_KEY)
    except RedisError as exc:
        logger.warning("client cache unreachable, reading clients from the database: %s", type(exc).__name__)
        return None
    return stamp


def _new_stamp() -> None:
    _cache().set(STAMP_KEY, secrets.token_hex(16), timeout=None)


def _new_stamp_after_commit() -> None:
    try:
        _new_stamp()
    except RedisError:
        # The stamp set before the commit already dropped every entry kept before the
        # change; only a reader racing the commit itself could have kept one since.
        logger.exception("client cache: the stamp after a client change could not be set")


def clients_changed() -> None:
    """Drop everything the gateways keep about clients, now and once the current transaction
    commits. Raises ClientCacheUnavailableError when the shared cache does not answer."""
    try:
        _new_stamp()
    except RedisError as exc:
        raise ClientCacheUnavailableError(
            "the shared cache (REST_CACHE_URL) does not answer: the client was not changed, try again"
        ) from exc
    transaction.on_commit(_new_stamp_after_commit)


def client_shape() -> str:
    """What a kept client and caller are made of (their fields' names, hashed): part of a
    gateway's cache keys, so entries pickled by other code are never read."""
    names = [field.attname for field in Client._meta.concrete_fields] + [field.name for field in fields(Caller)]
    return hashlib.sha256(",".join(names).encode()).hexdigest()[:12]


def _client_saved(sender: object, created: bool = False, **kwargs: object) -> None:
    if not created:  # a new client has no token yet, nothing kept about it
        clients_changed()


def _changed(sender: object, **kwargs: object) -> None:
    clients_changed()


def connect_client_stamp() -> None:
    """Every save or delete of a client or a mandate sets a new stamp: the services' and the
    admin's changes (the mandates are edited inline) alike. QuerySet.update() sends no
    signal: `last_used_at` is written that way on purpose (it changes nothing a gateway
    keeps), and every other update() of a client calls clients_changed() itself."""
    post_save.connect(_client_saved, sender=Client, dispatch_uid="client-stamp-client-saved")
    post_delete.connect(_changed, sender=Client, dispatch_uid="client-stamp-client-deleted")
    post_save.connect(_changed, sender=ClientMandate, dispatch_uid="client-stamp-mandate-saved")
    post_delete.connect(_changed, sender=ClientMandate, dispatch_uid="client-stamp-mandate-deleted")
