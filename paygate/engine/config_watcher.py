"""Running workers follow the active routing config without a restart.

The watcher polls the active version in PostgreSQL (every ~500 ms) and, when it changed,
loads and validates its YAML and swaps it into the ``RoutingService`` of this process.
"""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg
import yaml

from paygate.engine.routing_service import RoutingService
from paygate.logs import get_logger
from paygate.store import routing_configs as store
from routing import ConfigLoadError, RoutingConfig, load_config_text

log = get_logger("paygate.engine.config")


def config_yaml(config: RoutingConfig) -> str:
    """A YAML document that loads back into ``config`` (for configs built in code)."""
    data = config.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    text: str = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    return text


class ConfigWatcher:
    def __init__(
        self, pool: asyncpg.Pool, routing: RoutingService, *, interval_s: float = 0.5
    ) -> None:
        self._pool = pool
        self._routing = routing
        self._interval = interval_s
        self._bad: str | None = None

    async def bootstrap(self, file_yaml: str | None, author: str = "gateway") -> None:
        """First start with nothing stored: store the file config as its own version, active."""
        if file_yaml is None:
            return
        version = self._routing.config.version or self._routing.version
        async with self._pool.acquire() as conn:
            if await store.bootstrap(conn, version, file_yaml, author):
                log.info("stored the file routing config as the first version", version=version)

    async def poll_once(self) -> bool:
        """Apply the active version if it is not the one in use; True when it switched."""
        async with self._pool.acquire() as conn:
            active = await store.active_version_id(conn)
            if active is None or active == self._routing.version or active == self._bad:
                return False
            row = await store.get_version(conn, active)
        try:
            config = load_config_text(row.yaml, source=f"routing config {active}")
        except ConfigLoadError as exc:
            # Stored versions were validated on upload; keep routing with what we have.
            self._bad = active
            log.error(
                "active routing config does not load; keeping the current one", error=str(exc)
            )
            return False
        previous = self._routing.version
        self._routing.set_config(config, active)
        log.info("routing config switched", version=active, previous=previous)
        return True

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.poll_once()
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("routing config poll failed", error=str(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._interval)
