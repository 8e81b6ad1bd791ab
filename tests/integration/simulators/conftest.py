"""Rails started once per module on ephemeral ports, with a frozen simulated clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiohttp
import pytest
import pytest_asyncio

from simulators import RailsHandle, load_rails_config, start_rails

# Wednesday 2024-01-17 07:30 UTC = 08:30 Berlin, 15:30 Shanghai: every rail is open.
OPEN_TIME = datetime(2024, 1, 17, 7, 30, tzinfo=UTC)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def rails() -> AsyncIterator[RailsHandle]:
    cfg = load_rails_config()
    cfg.clock_start = OPEN_TIME
    cfg.clock_speed = 0  # frozen: tests move time explicitly
    handle = await start_rails(cfg)
    yield handle
    await handle.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        yield session


@pytest.fixture(autouse=True)
def clean_rails(request: pytest.FixtureRequest) -> None:
    """Each test starts from empty ledgers, default behaviour and the open-hours clock."""
    if "rails" not in request.fixturenames:
        return
    handle: RailsHandle = request.getfixturevalue("rails")
    handle.clock.set(OPEN_TIME, speed=0)
    for rail_id in handle.rail_ids:
        rail = handle.rail(rail_id)
        rail.set_behaviour(rail.config.behaviour)
        rail.reset()
