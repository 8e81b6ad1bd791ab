"""The circuit breaker against a real rail outage: it opens after failures (routing moves to
the next rail, usage reserved on the dead rail is released) and recovers after the cool-down."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from paygate.api.keys import CLOCK, ROUTING
from paygate.api.routing import USAGE
from paygate.channels.registry import endpoints_for_urls
from paygate.domain import PaymentOrder
from paygate.engine.health import ChannelHealth
from paygate.engine.routing_service import route_request
from paygate.store import channel_usage
from routing import BreakerState
from simulators import RailsHandle, SimClock, start_rails
from tests.integration.gateway.harness import BUSINESS_MORNING, order, running_gateway, settings_for
from tests.integration.routing.routing_harness import (
    control,
    demo_config,
    eventually,
    quote,
    submit,
    until_terminal,
    verdict,
)


def order_model(body: dict[str, Any]) -> PaymentOrder:
    return PaymentOrder.model_validate(body)


@pytest.fixture
async def rails() -> AsyncIterator[RailsHandle]:
    handle = await start_rails(clock=SimClock(BUSINESS_MORNING, 1.0))
    yield handle
    await handle.stop()


async def test_breaker_opens_on_an_outage_and_recovers_after_the_cool_down(
    fresh_dsn: str, tmp_path: Path, rails: RailsHandle
) -> None:
    outage = {
        "start": (BUSINESS_MORNING - dt.timedelta(hours=1)).isoformat(),
        "end": (BUSINESS_MORNING + dt.timedelta(days=1)).isoformat(),
        "mode": "503",
    }
    await control(rails, "instant", {"outages": [outage]})
    endpoints = endpoints_for_urls({r: rails.base_url(r) for r in rails.rail_ids})
    settings = settings_for(fresh_dsn, tmp_path)
    async with running_gateway(settings, endpoints=endpoints, routing_config=demo_config()) as gw:
        health = ChannelHealth(
            failure_threshold=2,
            cool_down=dt.timedelta(seconds=1.5),
            usage=gw.app[USAGE].states,
            cache_for=dt.timedelta(0),
        )
        gw.dispatcher.c.health = health

        def breaker() -> BreakerState:
            return health.breaker_state("instant", gw.app[CLOCK].now())

        # The rail is down and says so (503 + X-Outage): two refusals open its breaker.
        # (Straight-through to instant: scoring alone would avoid it after the first failure.)
        refused = [
            await submit(gw, order(n, priority="urgent", channel="instant"), f"br-{n}")
            for n in (1, 2)
        ]

        async def breaker_tripped() -> bool:
            return breaker() is not BreakerState.CLOSED

        await eventually(breaker_tripped, what="the instant breaker to open")
        opened_at = health._breaker("instant")._opened_at
        assert opened_at is not None
        # Within the cool-down, routing drops the rail (the pure decision at that instant).
        at = opened_at + dt.timedelta(milliseconds=1)
        request = route_request(order_model(order(3, priority="urgent")), "probe", now=at)
        decision = gw.app[ROUTING].decide(request, health.snapshot(at), at, explain=True)
        dropped = {v.channel: v.dropped_because for v in decision.verdicts}
        assert dropped["instant"] == "circuit breaker open"
        assert decision.channel == "rtgs"
        third = await until_terminal(gw, await submit(gw, order(3, priority="urgent"), "br-3"))
        assert (third["status"], third["channel"]) == ("settled", "rtgs")

        # After the cool-down the breaker half-opens: the rail is eligible again for a probe.
        async def half_open() -> bool:
            return breaker() is BreakerState.HALF_OPEN

        await eventually(half_open, what="the breaker to half-open", tries=200, every=0.05)
        explained = await quote(gw, order(4, priority="urgent"))
        assert verdict(explained, "instant")["dropped_because"] is None

        # The rail comes back: a probe succeeds and closes the breaker. The refused ones were
        # never taken by instant, so they were retried or failed over: each settles once.
        await control(rails, "instant", {"outages": []})
        probe = order(4, priority="urgent", channel="instant")
        fourth = await until_terminal(gw, await submit(gw, probe, "br-4"))
        assert (fourth["status"], fourth["channel"]) == ("settled", "instant")
        assert breaker() is BreakerState.CLOSED
        final = [third, fourth]
        for pid in refused:
            found = await until_terminal(gw, pid)
            assert found["status"] == "settled"
            assert found["channel"] in ("instant", "rtgs")
            final.append(found)
        rows = await channel_usage.usage_on(gw.pool, channel_usage.business_day(BUSINESS_MORNING))
        used = {r.channel: r.count for r in rows if r.count}
        assert used == dict(Counter(p["channel"] for p in final))
