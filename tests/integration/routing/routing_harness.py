"""Shared pieces of the routing integration tests: rails, configs, polling helpers."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp

from paygate.api.keys import CLOCK
from paygate.api.routing import USAGE
from routing import ChannelState, RoutingConfig, load_config
from simulators import RailsHandle
from tests.integration.gateway.harness import Gateway

DEMO_YAML = Path(__file__).resolve().parents[3] / "routing" / "configs" / "demo.yaml"
TERMINAL = ("settled", "rejected", "failed")


def demo_config() -> RoutingConfig:
    return load_config(DEMO_YAML)


def with_channel(config: RoutingConfig, channel: str, version: str, **update: Any) -> RoutingConfig:
    channels = [c.model_copy(update=update) if c.id == channel else c for c in config.channels]
    return config.model_copy(update={"channels": channels, "version": version})


async def control(handle: RailsHandle, rail: str, patch: dict[str, Any]) -> None:
    async with (
        aiohttp.ClientSession() as s,
        s.post(f"{handle.base_url(rail)}/_control", json=patch) as r,
    ):
        assert r.status == 200, await r.text()


async def eventually(
    check: Callable[[], Awaitable[Any]], *, what: str, tries: int = 400, every: float = 0.025
) -> Any:
    """Poll ``check`` until it returns something truthy, a bounded number of times."""
    for _ in range(tries):
        value = await check()
        if value:
            return value
        await asyncio.sleep(every)
    raise AssertionError(f"gave up waiting for {what}")


async def submit(gw: Gateway, body: dict[str, Any], key: str) -> str:
    async with gw.session.post(f"{gw.url}/v1/payments", json=body, headers=gw.headers(key)) as r:
        assert r.status == 201, await r.text()
        pid: str = (await r.json())["id"]
        return pid


async def payment(gw: Gateway, pid: str) -> dict[str, Any]:
    async with gw.session.get(f"{gw.url}/v1/payments/{pid}", headers=gw.headers()) as r:
        assert r.status == 200, await r.text()
        data: dict[str, Any] = await r.json()
        return data


async def until_terminal(gw: Gateway, pid: str) -> dict[str, Any]:
    async def done() -> dict[str, Any] | None:
        p = await payment(gw, pid)
        return p if p["status"] in TERMINAL else None

    try:
        result: dict[str, Any] = await eventually(done, what=f"payment {pid} to finish")
    except AssertionError:
        trail = [(e["to"], e["reason"]) for e in await events(gw, pid)]
        raise AssertionError(f"payment {pid} did not finish: {trail}") from None
    return result


async def events(gw: Gateway, pid: str) -> list[dict[str, Any]]:
    async with gw.session.get(f"{gw.url}/v1/payments/{pid}/events", headers=gw.headers()) as r:
        found: list[dict[str, Any]] = (await r.json())["events"]
        return found


def live_state(gw: Gateway, channel: str) -> ChannelState:
    """What routing sees for ``channel`` right now (usage, liquidity and health)."""
    now: dt.datetime = gw.app[CLOCK].now()
    return gw.dispatcher.c.health.snapshot(now).state(channel)


async def until_seen(gw: Gateway, channel: str, ok: Callable[[ChannelState], bool]) -> None:
    """Wait until the usage loader and the health cache both reflect the database."""

    async def check() -> bool:
        await gw.app[USAGE].refresh()
        return ok(live_state(gw, channel))

    await eventually(check, what=f"routing to see the new state of {channel}")


async def quote(gw: Gateway, body: dict[str, Any]) -> dict[str, Any]:
    async with gw.session.post(f"{gw.url}/v1/routing/quote", json=body, headers=gw.headers()) as r:
        assert r.status == 200, await r.text()
        data: dict[str, Any] = await r.json()
        return data


def verdict(decision: dict[str, Any], channel: str) -> dict[str, Any]:
    return next(v for v in decision["verdicts"] if v["channel"] == channel)


ZERO = Decimal(0)
