"""Start a real gateway (and, when asked, the real simulated rails) for integration tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from paygate.api.app import Overrides, create_app
from paygate.api.keys import ENGINE, POOL
from paygate.channels.registry import ChannelEndpoint
from paygate.config import Settings
from paygate.engine.dispatcher import Dispatcher
from paygate.store.clients import create_key
from simulators import RailsHandle

# A Tuesday morning in Frankfurt: every rail of the demo config is open.
BUSINESS_MORNING = dt.datetime(2026, 11, 24, 9, 30, tzinfo=dt.UTC)


@dataclass
class Gateway:
    url: str
    app: web.Application
    key: str
    session: aiohttp.ClientSession

    @property
    def pool(self) -> Any:
        return self.app[POOL]

    @property
    def dispatcher(self) -> Dispatcher:
        engine: Dispatcher = self.app[ENGINE]
        return engine

    def headers(self, idem: str | None = None, key: str | None = None) -> dict[str, str]:
        h = {"Authorization": f"Bearer {key or self.key}", "Content-Type": "application/json"}
        if idem is not None:
            h["Idempotency-Key"] = idem
        return h


def settings_for(dsn: str, data_dir: Path, **extra: Any) -> Settings:
    base: dict[str, Any] = {
        "database_url": dsn,
        "data_dir": data_dir,
        "channel_timeout_s": 1.0,
        "poll_interval_s": 0.01,
        "inquiry_backoff_s": 0.05,
        "clock_start": BUSINESS_MORNING,
    }
    base.update(extra)
    return Settings(**base)


@asynccontextmanager
async def running_gateway(
    settings: Settings,
    *,
    endpoints: dict[str, ChannelEndpoint] | None = None,
    run_workers: bool = True,
    routing_config: Any = None,
) -> AsyncIterator[Gateway]:
    app = create_app(
        settings,
        Overrides(
            endpoints=endpoints or {}, run_workers=run_workers, routing_config=routing_config
        ),
    )
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    async with app[POOL].acquire() as conn:
        key = await create_key(conn, "acme", {"submit", "read", "operator"})
    session = aiohttp.ClientSession()
    try:
        yield Gateway(f"http://127.0.0.1:{port}", app, key, session)
    finally:
        await session.close()
        await runner.cleanup()


def order(
    n: int = 1, *, amount: str = "125.40", currency: str = "EUR", **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "amount": {"value": amount, "currency": currency},
        "debtor": {"name": "Acme GmbH"},
        "debtor_account": {"iban": "DE89370400440532013000"},
        "debtor_agent": {"bic": "DEUTDEFF"},
        "creditor": {"name": "Jane Doe"},
        "creditor_account": {"iban": "DE02120300000000202051"},
        "creditor_agent": {"bic": "BYLADEM1001"},
        "end_to_end_id": f"E2E-{n}",
        "remittance": {"unstructured": f"Invoice {n}"},
    }
    body.update(extra)
    return body


async def control(handle: RailsHandle, rail: str, patch: dict[str, Any]) -> None:
    async with (
        aiohttp.ClientSession() as s,
        s.post(f"{handle.base_url(rail)}/_control", json=patch) as r,
    ):
        assert r.status == 200, await r.text()


async def ledger(handle: RailsHandle, rail: str) -> list[dict[str, Any]]:
    async with aiohttp.ClientSession() as s, s.get(f"{handle.base_url(rail)}/_ledger") as r:
        data = await r.json()
    return data["entries"] if isinstance(data, dict) else data


async def events(gw: Gateway, pid: str) -> list[dict[str, Any]]:
    """A payment's timeline as the API shows it."""
    async with gw.session.get(f"{gw.url}/v1/payments/{pid}/events", headers=gw.headers()) as r:
        assert r.status == 200, await r.text()
        found: list[dict[str, Any]] = (await r.json())["events"]
    return found


async def timeline(gw: Gateway, pid: str) -> list[str]:
    return [e["to"] for e in await events(gw, pid)]
