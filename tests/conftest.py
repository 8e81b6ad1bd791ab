"""Shared fixtures: one embedded PostgreSQL per test session, a fresh database per user."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from paygate.store.database import with_database
from paygate.store.embedded import EmbeddedPostgres


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """The DSN of a session-wide embedded PostgreSQL (or PAYGATE_TEST_DATABASE_URL)."""
    import os

    external = os.environ.get("PAYGATE_TEST_DATABASE_URL")
    if external:
        yield external
        return
    # Its own short directory (the unix socket lives there; 108-byte limit), outside pytest's
    # numbered temp dirs, which a concurrent pytest session may clean up under our feet.
    root = Path(tempfile.mkdtemp(prefix="paygate-pg-"))
    server = EmbeddedPostgres(root)
    dsn = server.start()
    yield dsn
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
async def fresh_dsn(pg_server: str) -> AsyncIterator[str]:
    """A brand-new empty database for one test, dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(pg_server)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield with_database(pg_server, name)
    admin = await asyncpg.connect(pg_server)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()
