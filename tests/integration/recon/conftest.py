"""Rails once per module with a frozen clock; a migrated database per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from paygate.store.database import open_database
from simulators import RailsHandle, load_rails_config, start_rails
from tests.integration.gateway.harness import settings_for
from tests.integration.recon.recon_world import OPEN_TIME


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def rails() -> AsyncIterator[RailsHandle]:
    cfg = load_rails_config()
    cfg.clock_start = OPEN_TIME
    cfg.clock_speed = 0  # frozen: tests move time explicitly
    handle = await start_rails(cfg)
    yield handle
    await handle.stop()


@pytest.fixture(autouse=True)
def clean_rails(request: pytest.FixtureRequest) -> None:
    """Each test starts from empty ledgers and the open-hours clock."""
    if "rails" not in request.fixturenames:
        return
    handle: RailsHandle = request.getfixturevalue("rails")
    handle.clock.set(OPEN_TIME, speed=0)
    for rail_id in handle.rail_ids:
        rail = handle.rail(rail_id)
        rail.set_behaviour(rail.config.behaviour)
        rail.reset()


@pytest_asyncio.fixture
async def pool(fresh_dsn: str, tmp_path: Path) -> AsyncIterator[Any]:
    database = await open_database(settings_for(fresh_dsn, tmp_path))
    yield database.pool
    await database.close()
