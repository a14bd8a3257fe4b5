"""Read replica routing: searches and single reads may go to `replica`, all else to `default`.

Enabled only when `DATABASE_REPLICA_URL` is set (config/settings). The selectors that may
read a replica's slightly stale copy are marked with `@replica_reads`
(`registration_get`, `registration_search`); everything else, every write, and any read
inside a transaction on the primary goes to `default`, so a service never decides on stale
data. See docs/deploy.md.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from django.db import connections

REPLICA = "replica"
_replica_reads: ContextVar[bool] = ContextVar("replica_reads", default=False)

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def replica_reads_allowed() -> Iterator[None]:
    """Within this block, reads may be served by the replica (when one is configured)."""
    token = _replica_reads.set(True)
    try:
        yield
    finally:
        _replica_reads.reset(token)


def replica_reads(function: Callable[P, R]) -> Callable[P, R]:
    """Mark a selector whose reads tolerate replication lag. It must return evaluated data
    (lists, instances), not a lazy queryset, since the mark ends when it returns."""

    @wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with replica_reads_allowed():
            return function(*args, **kwargs)

    return wrapper


class ReplicaRouter:
    """Django database router (settings.DATABASE_ROUTERS) for one primary and one replica."""

    def db_for_read(self, model: type[Any], **hints: Any) -> str:
        if _replica_reads.get() and not connections["default"].in_atomic_block:
            return REPLICA
        return "default"

    def db_for_write(self, model: type[Any], **hints: Any) -> str:
        return "default"

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # the replica is a copy of the primary: the same rows on both

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool:
        return db == "default"  # the replica receives the schema by replication
