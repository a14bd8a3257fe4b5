"""The PostgreSQL connection settings of one database alias: Django's built-in psycopg pool.

Each process (a gunicorn worker, a Celery worker process, beat) gets one pool per alias and
never holds more than `max_size` server connections on it; a connection goes back to the pool
at the end of each request (and of each task), so the bound holds however many requests a
process serves. Sizing: docs/deploy.md, "Connections".
"""

from typing import Any

import dj_database_url


def database_settings(
    url: str, *, pool_min_size: int, pool_max_size: int, pool_timeout: int, conn_max_age: int, server_side_cursors: bool
) -> dict[str, Any]:
    """Django's settings for the PostgreSQL at `url`.

    `pool_max_size` > 0: a psycopg pool of `pool_min_size`..`pool_max_size` connections; a
    request that finds every connection taken waits `pool_timeout` seconds, then fails
    (psycopg_pool.PoolTimeout). Django refuses persistent connections beside a pool, so
    CONN_MAX_AGE is 0 then. `pool_max_size` = 0: no pool, persistent connections of
    `conn_max_age` seconds (for an external pooler such as PgBouncer; with PgBouncer in
    transaction mode also set `server_side_cursors` False).
    """
    pooled = pool_max_size > 0
    settings: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=0 if pooled else conn_max_age))
    if pooled:
        settings.setdefault("OPTIONS", {})["pool"] = {
            "min_size": min(pool_min_size, pool_max_size),
            "max_size": pool_max_size,
            "timeout": pool_timeout,
        }
    settings["DISABLE_SERVER_SIDE_CURSORS"] = not server_side_cursors
    return settings
