"""Fixtures shared by the gateway's integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from paygate.store.database import Database, open_database
from simulators import RailsHandle, SimClock, start_rails
from tests.integration.gateway.harness import BUSINESS_MORNING, settings_for


@pytest.fixture
async def database(fresh_dsn: str, tmp_path: Path) -> AsyncIterator[Database]:
    db = await open_database(settings_for(fresh_dsn, tmp_path))
    try:
        yield db
    finally:
        await db.close()


@pytest.fixture
async def rails() -> AsyncIterator[RailsHandle]:
    handle = await start_rails(clock=SimClock(BUSINESS_MORNING, 1.0))
    yield handle
    await handle.stop()
