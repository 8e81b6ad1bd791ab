"""Payments bundled into one pacs.008 to the rtgs simulator, over real HTTP: each is booked,
answered and recorded on its own reference, and none is paid twice when the answer to the
whole message is lost or when the rail rejects some of its transactions."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paygate.channels.base import HttpCall, SubmissionRequest
from paygate.channels.iso20022_rail import Iso20022Rail
from paygate.channels.registry import SIMULATED_OPTIONS, ChannelEndpoint, endpoints_for_urls
from paygate.domain import TERMINAL
from paygate.errors import FieldError, SchemaInvalid
from routing import BreakerState
from simulators import RailsHandle
from tests.integration.gateway.harness import (
    Gateway,
    control,
    events,
    ledger,
    order,
    running_gateway,
    settings_for,
    timeline,
)

BUNDLE = SIMULATED_OPTIONS["rtgs"]["max_transactions_per_message"]


def high_value(n: int) -> dict[str, Any]:
    # High-value urgent EUR: only rtgs can carry it, so there is no failover to hide behind.
    return order(n, amount="250000.00", priority="urgent")


async def post_all(gw: Gateway, count: int) -> list[str]:
    ids = []
    for n in range(count):
        async with gw.session.post(
            f"{gw.url}/v1/payments", json=high_value(n), headers=gw.headers(f"bundle-{n}")
        ) as r:
            assert r.status == 201, await r.text()
            ids.append((await r.json())["id"])
    return ids


async def drain(gw: Gateway, ids: list[str], timeout_s: float = 30.0) -> dict[str, str]:
    """Run the dispatcher's rounds until every payment is terminal; their statuses."""
    deadline = time.monotonic() + timeout_s
    terminal = {s.value for s in TERMINAL}
    while True:
        await gw.dispatcher.run_until_idle()
        rows = await gw.pool.fetch(
            "SELECT id::text, status FROM payments WHERE id = ANY($1::uuid[])", ids
        )
        statuses = {r["id"]: r["status"] for r in rows}
        if all(s in terminal for s in statuses.values()):
            return statuses
        assert time.monotonic() < deadline, Counter(statuses.values())
        await asyncio.sleep(0.02)  # inquiries are scheduled a backoff ahead


async def uetrs(gw: Gateway, ids: list[str]) -> dict[str, str]:
    rows = await gw.pool.fetch(
        "SELECT id::text, uetr::text FROM payments WHERE id = ANY($1::uuid[])", ids
    )
    return {r["id"]: r["uetr"] for r in rows}


@asynccontextmanager
async def gateway_on_rails(
    dsn: str, tmp_path: Path, rails: RailsHandle, **replace: ChannelEndpoint
) -> AsyncIterator[Gateway]:
    """A gateway on the simulated rails whose dispatcher runs only when a test drains."""
    endpoints = endpoints_for_urls({r: rails.base_url(r) for r in rails.rail_ids})
    endpoints.update(replace)
    settings = settings_for(dsn, tmp_path)
    async with running_gateway(settings, endpoints=endpoints, run_workers=False) as gw:
        yield gw


async def submitted_event(gw: Gateway, pid: str) -> dict[str, Any]:
    return next(e for e in await events(gw, pid) if e["to"] == "submitted")


async def test_a_claimed_batch_travels_in_full_messages_and_each_payment_settles_once(
    fresh_dsn: str, tmp_path: Path, rails: RailsHandle
) -> None:
    count = BUNDLE + 8
    async with gateway_on_rails(fresh_dsn, tmp_path, rails) as gw:
        ids = await post_all(gw, count)
        statuses = await drain(gw, ids)
        assert set(statuses.values()) == {"settled"}
        by_uetr = await uetrs(gw, ids)
        subs = await gw.pool.fetch(
            "SELECT payment_id::text, state FROM submissions WHERE payment_id = ANY($1::uuid[])",
            ids,
        )
        steps = [await timeline(gw, pid) for pid in ids]
        submitted = {pid: await submitted_event(gw, pid) for pid in ids}
    assert sorted(s["payment_id"] for s in subs) == sorted(ids)
    assert {s["state"] for s in subs} == {"settled"}
    assert all(s[-3:] == ["routed", "submitted", "settled"] for s in steps)
    mine = [e for e in await ledger(rails, "rtgs") if e["uetr"] in set(by_uetr.values())]
    assert sorted(e["uetr"] for e in mine) == sorted(by_uetr.values())
    assert {e["status"] for e in mine} == {"settled"}
    # One claim of 40 is two messages: a full one and the rest.
    messages = Counter(e["msg_id"] for e in mine)
    assert sorted(messages.values()) == [count - BUNDLE, BUNDLE]
    assert all(m.startswith("B") for m in messages)
    # Each payment's timeline names the message the rail booked it from.
    msg_of = {e["uetr"]: e["msg_id"] for e in mine}
    for pid in ids:
        message = msg_of[by_uetr[pid]]
        assert submitted[pid]["reason"].endswith(f"in message {message}"), submitted[pid]
        assert submitted[pid]["data"] == {"message_id": message}


async def test_a_lost_answer_to_a_message_leaves_each_payment_to_inquiry_and_none_paid_twice(
    fresh_dsn: str, tmp_path: Path, rails: RailsHandle
) -> None:
    await control(rails, "rtgs", {"lost_response_rate": 1.0, "seed": 7})
    async with gateway_on_rails(fresh_dsn, tmp_path, rails) as gw:
        ids = await post_all(gw, 10)
        statuses = await drain(gw, ids)
        by_uetr = await uetrs(gw, ids)
        steps = {pid: await timeline(gw, pid) for pid in ids}
        c = gw.dispatcher.c
        # One lost exchange is one failure, not ten: the breaker (5 in a row) stays closed.
        assert c.health.breaker_state("rtgs", c.clock.now()) == BreakerState.CLOSED
    assert set(statuses.values()) == {"settled"}
    for pid in ids:
        assert steps[pid][-3:] == ["submitted", "unknown", "settled"], steps[pid]
    mine = [e for e in await ledger(rails, "rtgs") if e["uetr"] in set(by_uetr.values())]
    assert sorted(e["uetr"] for e in mine) == sorted(by_uetr.values())
    assert {e["status"] for e in mine} == {"settled"}
    assert len({e["msg_id"] for e in mine}) == 1


async def test_transactions_the_rail_rejects_fail_alone_and_the_rest_of_the_message_settles(
    fresh_dsn: str, tmp_path: Path, rails: RailsHandle
) -> None:
    await control(rails, "rtgs", {"reject_rate": 0.5, "reject_reasons": {"AM04": 1.0}, "seed": 3})
    async with gateway_on_rails(fresh_dsn, tmp_path, rails) as gw:
        ids = await post_all(gw, 20)
        statuses = await drain(gw, ids)
        by_uetr = await uetrs(gw, ids)
    booked = {e["uetr"]: e for e in await ledger(rails, "rtgs") if e["uetr"] in by_uetr.values()}
    assert len({e["msg_id"] for e in booked.values()}) == 1
    ours = {pid: statuses[pid] for pid in ids}
    rail = {pid: booked[by_uetr[pid]]["status"] for pid in ids}
    assert ours == rail  # settled where the rail settled, rejected where it rejected
    assert set(ours.values()) == {"settled", "rejected"}


@dataclass(frozen=True)
class NoBundles(Iso20022Rail):
    """An rtgs adapter whose multi-payment messages fail to build (as an XSD refusal would)."""

    def bundle_call(self, msg_id: str, requests: Sequence[SubmissionRequest]) -> HttpCall:
        if len(requests) > 1:
            raise SchemaInvalid("refused for the test", [FieldError("/Document", "test")])
        return super().bundle_call(msg_id, requests)


async def test_a_message_that_cannot_be_built_is_sent_payment_by_payment(
    fresh_dsn: str, tmp_path: Path, rails: RailsHandle
) -> None:
    rtgs = NoBundles("rtgs", max_transactions_per_message=BUNDLE)
    unbuildable = ChannelEndpoint("rtgs", rails.base_url("rtgs"), rtgs)
    async with gateway_on_rails(fresh_dsn, tmp_path, rails, rtgs=unbuildable) as gw:
        ids = await post_all(gw, 5)
        statuses = await drain(gw, ids)
        by_uetr = await uetrs(gw, ids)
        reasons = [[e["reason"] for e in await events(gw, pid)] for pid in ids]
    assert set(statuses.values()) == {"settled"}
    booked = [e for e in await ledger(rails, "rtgs") if e["uetr"] in by_uetr.values()]
    assert len(booked) == 5
    assert all(e["msg_id"] == e["reference"] for e in booked)  # each in a message of its own
    for timeline_reasons in reasons:
        assert any("could not be built" in r and "of its own" in r for r in timeline_reasons)
