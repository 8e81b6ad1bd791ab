"""Hosting: every rail its own aiohttp Application on its own port, one shared clock.

`start_rails` is the in-process API used by tests and the demo; `paygate sim` / `python -m
simulators` run the same thing until interrupted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from pathlib import Path

import aiohttp
from aiohttp import web

from simulators.clock import SimClock
from simulators.config import RailConfig, RailsConfig, load_rails_config
from simulators.http_admin import add_admin_routes
from simulators.http_common import RAIL_KEY, outage_middleware
from simulators.http_iso import pacs002_for, post_pacs008, post_pacs028
from simulators.http_json import get_payment, payment_json, post_payment
from simulators.http_swift import get_status, post_mt103
from simulators.ledger import Entry
from simulators.rail import Rail

log = logging.getLogger("simulators")

TICK_SECONDS = 0.05  # how often queued payments are checked against the simulated clock
CALLBACK_ATTEMPTS = 3


def build_rail_app(rail: Rail) -> web.Application:
    app = web.Application(middlewares=[outage_middleware], client_max_size=20 * 1024 * 1024)
    app[RAIL_KEY] = rail
    protocols = rail.config.protocols
    if "pacs008" in protocols:
        app.router.add_post("/pacs008", post_pacs008)
        app.router.add_post("/pacs028", post_pacs028)
    if "json" in protocols:
        app.router.add_post("/payments", post_payment)
        app.router.add_get("/payments/{reference}", get_payment)
    if "mt103" in protocols:
        app.router.add_post("/mt103", post_mt103)
        app.router.add_get("/status/{uetr}", get_status)
    add_admin_routes(app)
    return app


class RailsHandle:
    """Running rails. `base_url(id)`, `rail(id)` for ledger access, `await stop()`."""

    def __init__(self, clock: SimClock, host: str) -> None:
        self.clock = clock
        self.host = host
        self._rails: dict[str, Rail] = {}
        self._runners: list[web.AppRunner] = []
        self._urls: dict[str, str] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._ticker: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def rail_ids(self) -> list[str]:
        return list(self._rails)

    def base_url(self, rail_id: str) -> str:
        return self._urls[rail_id]

    def rail(self, rail_id: str) -> Rail:
        return self._rails[rail_id]

    async def _add(self, rail: Rail, port: int) -> None:
        runner = web.AppRunner(build_rail_app(rail), access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        self._runners.append(runner)
        site = web.TCPSite(runner, self.host, port)
        await site.start()
        actual = runner.addresses[0][1]
        self._rails[rail.id] = rail
        self._urls[rail.id] = f"http://{self.host}:{actual}"
        rail.on_settled = lambda entries, r=rail: self._callbacks(r, entries)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            for rail in self._rails.values():
                rail.advance()

    def _callbacks(self, rail: Rail, entries: list[Entry]) -> None:
        """Final status of asynchronously settled payments, one callback per message + URL."""
        groups: dict[tuple[str, str | None], list[Entry]] = defaultdict(list)
        for e in entries:
            if e.callback_url:
                groups[(e.callback_url, e.msg_id)].append(e)
        for (url, msg_id), members in groups.items():
            if msg_id is not None:
                body = pacs002_for(rail, msg_id, members, "pacs.008.001.08")
                ctype = "application/xml"
            else:
                body = json.dumps([payment_json(e) for e in members]).encode()
                ctype = "application/json"
            copies = 2 if rail.dice.chance(rail.behaviour.duplicate_callback_rate) else 1
            for _ in range(copies):
                task = asyncio.get_running_loop().create_task(self._post(url, body, ctype))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _post(self, url: str, body: bytes, content_type: str) -> None:
        if self._session is None:
            return
        for attempt in range(CALLBACK_ATTEMPTS):
            try:
                async with self._session.post(
                    url, data=body, headers={"Content-Type": content_type}
                ) as resp:
                    if resp.status < 500:
                        return
            except (aiohttp.ClientError, TimeoutError) as exc:
                log.warning("callback to %s failed (attempt %d): %s", url, attempt + 1, exc)
            await asyncio.sleep(0.2 * (attempt + 1))

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
        for runner in self._runners:
            await runner.cleanup()
        self._runners.clear()


def _port_for(cfg: RailConfig, port_base: int | None) -> int:
    if cfg.port is not None:
        return int(cfg.port)
    if port_base is None:
        return 0  # ephemeral
    return port_base + cfg.port_offset


async def start_rails(
    config: RailsConfig | str | Path | None = None,
    host: str = "127.0.0.1",
    port_base: int | None = None,
    clock: SimClock | None = None,
) -> RailsHandle:
    """Start every configured rail. Ports: the rail's fixed `port`, else `port_base` (argument
    or config) + `port_offset`, else ephemeral."""
    cfg = config if isinstance(config, RailsConfig) else load_rails_config(config)
    clock = clock or SimClock(cfg.clock_start, cfg.clock_speed)
    base = port_base if port_base is not None else cfg.port_base
    handle = RailsHandle(clock, host)
    try:
        for rail_cfg in cfg.rails.values():
            await handle._add(Rail(rail_cfg, clock), _port_for(rail_cfg, base))
    except BaseException:
        await handle.stop()
        raise
    handle._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
    handle._ticker = asyncio.get_running_loop().create_task(handle._tick())
    return handle
