"""The demo's database is emptied at every run, on whatever server is configured."""

from __future__ import annotations

import asyncpg
import pytest

from paygate.config import Settings
from paygate.store.database import recreate_database, with_database


def test_with_database_keeps_the_server_and_socket() -> None:
    dsn = "postgresql://postgres:@/postgres?host=/tmp/pg-sock"
    assert (
        with_database(dsn, "paygate_demo")
        == "postgresql://postgres:@/paygate_demo?host=/tmp/pg-sock"
    )
    assert with_database("postgresql://u:p@db:5433/x", "y") == "postgresql://u:p@db:5433/y"


async def test_a_second_run_starts_from_an_empty_database(pg_server: str) -> None:
    settings = Settings(database_url=pg_server)
    dsn, embedded = await recreate_database(settings, "paygate_recreate_test")
    assert embedded is None  # an external server: nothing started
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("CREATE TABLE left_over (n int); INSERT INTO left_over VALUES (1)")
    finally:
        await conn.close()
    # A connection still open on the old database does not stop the next run.
    lingering = await asyncpg.connect(dsn)
    dsn2, _ = await recreate_database(settings, "paygate_recreate_test")
    assert dsn2 == dsn
    conn = await asyncpg.connect(dsn2)
    try:
        assert await conn.fetchval("SELECT to_regclass('left_over')") is None
    finally:
        await conn.close()
        if not lingering.is_closed():
            await lingering.close()


async def test_a_name_that_is_not_a_plain_identifier_is_refused(pg_server: str) -> None:
    with pytest.raises(ValueError, match="plain database name"):
        await recreate_database(Settings(database_url=pg_server), 'x"; DROP DATABASE postgres; --')
