"""Live usage and liquidity against the real rails: a daily cap sends the next payment to the
next rail; a position below protection raises an alert and routing avoids the rail."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from paygate.api.keys import METRICS
from paygate.channels.registry import endpoints_for_urls
from paygate.store import channel_usage
from simulators import RailsHandle, SimClock, start_rails
from tests.integration.gateway.harness import BUSINESS_MORNING, order, running_gateway, settings_for
from tests.integration.routing.routing_harness import (
    demo_config,
    events,
    quote,
    submit,
    until_seen,
    until_terminal,
    verdict,
    with_channel,
)

AMOUNT = "125.40"


@pytest.fixture
async def rails() -> AsyncIterator[RailsHandle]:
    handle = await start_rails(clock=SimClock(BUSINESS_MORNING, 1.0))
    yield handle
    await handle.stop()


def urgent(n: int) -> dict[str, object]:
    # Urgent EUR: the demo config allows instant (cheapest) and rtgs only.
    return order(n, amount=AMOUNT, priority="urgent")


async def test_daily_cap_exhausted_sends_the_next_payment_to_the_next_rail(
    fresh_dsn: str, tmp_path: Path, rails: RailsHandle
) -> None:
    config = with_channel(demo_config(), "instant", "tiny-cap", daily_amount_cap=Decimal(200))
    endpoints = endpoints_for_urls({r: rails.base_url(r) for r in rails.rail_ids})
    settings = settings_for(fresh_dsn, tmp_path)
    async with running_gateway(settings, endpoints=endpoints, routing_config=config) as gw:
        first = await until_terminal(gw, await submit(gw, urgent(1), "cap-1"))
        assert (first["status"], first["channel"]) == ("settled", "instant")
        rows = await channel_usage.usage_on(gw.pool, channel_usage.business_day(BUSINESS_MORNING))
        used = {r.channel: (r.amount, r.count) for r in rows}
        assert used["instant"] == (Decimal(AMOUNT), 1)

        await until_seen(gw, "instant", lambda s: s.used_amount_today == Decimal(AMOUNT))
        explained = await quote(gw, urgent(2))
        assert "daily amount cap" in (verdict(explained, "instant")["dropped_because"] or "")
        second = await until_terminal(gw, await submit(gw, urgent(2), "cap-2"))
        assert (second["status"], second["channel"]) == ("settled", "rtgs")


async def test_liquidity_below_protection_alerts_and_avoids_the_rail(
    fresh_dsn: str, tmp_path: Path, rails: RailsHandle
) -> None:
    endpoints = endpoints_for_urls({r: rails.base_url(r) for r in rails.rail_ids})
    settings = settings_for(fresh_dsn, tmp_path)
    async with running_gateway(settings, endpoints=endpoints, routing_config=demo_config()) as gw:
        # instant would go below its protection level; rtgs has ample room and is tracked.
        await channel_usage.set_position(gw.pool, "instant", "EUR", Decimal(100), Decimal(50))
        await channel_usage.set_position(gw.pool, "rtgs", "EUR", Decimal(10_000), Decimal(0))
        await until_seen(gw, "instant", lambda s: s.position == Decimal(100))
        await until_seen(gw, "rtgs", lambda s: s.position == Decimal(10_000))

        pid = await submit(gw, urgent(1), "liq-1")
        paid = await until_terminal(gw, pid)
        assert (paid["status"], paid["channel"]) == ("settled", "rtgs")

        alerts = [e for e in await events(gw, pid) if e["reason"].startswith("liquidity alert")]
        assert len(alerts) == 1
        assert "instant" in alerts[0]["reason"] and "position 100" in alerts[0]["reason"]
        assert alerts[0]["data"]["channel"] == "instant"
        metric = gw.app[METRICS].registry.get_sample_value(
            "paygate_liquidity_alerts_total", {"channel": "instant"}
        )
        assert metric == 1.0

        held = {(p.channel, p.currency): p.position for p in await channel_usage.positions(gw.pool)}
        assert held[("rtgs", "EUR")] == Decimal(10_000) - Decimal(AMOUNT)  # reserved
        assert held[("instant", "EUR")] == Decimal(100)  # untouched
