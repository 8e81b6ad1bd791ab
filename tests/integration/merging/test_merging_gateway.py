"""Merging (并笔) through the real gateway against the real simulated rails over HTTP, on a
simulated clock running fast enough that 10-minute windows and 30-minute batch cycles pass
in seconds. Every claim is checked in PostgreSQL and against the batch rail's own ledger."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from rich.console import Console

from paygate.api.keys import ROUTING
from paygate.api.merges import MERGE_WORKER
from paygate.channels.registry import endpoints_for_urls
from paygate.cli.demo_merging import print_merge_savings
from paygate.domain import PaymentOrder
from paygate.store import payments as repo
from paygate.store.clients import ensure_client
from simulators import RailsHandle, SimClock, start_rails
from tests.integration.gateway.harness import (
    BUSINESS_MORNING,
    Gateway,
    order,
    running_gateway,
    settings_for,
)

# Read here, not via paygate.config: a knob of the test suite, not of the gateway.
MERGE_ITEMS = int(os.environ.get("PAYGATE_TEST_MERGE_ITEMS", "2000"))
SPEED = 600.0  # simulated seconds per real second: a 10-minute window is 1 s


def _iban(bban: str, country: str = "DE") -> str:
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{country}{98 - int(digits) % 97:02d}{bban}"


PAYEES = [_iban(f"12030000{n:010d}") for n in range(20)]
# Every merge stays under the batch rail's 50,000.00 per-payment maximum (close early at
# 40,000.00): under load a window can gather more than usual before it is closed.
RULES = """
version: "test-1"
rules:
  - id: payroll
    match: {products: [payroll], currency: EUR}
    max_item_amount: "1000.00"
    channels: [batch]
    window: {every_minutes: 10, timezone: Europe/Berlin}
    close_early_at_amount: "40000.00"
    on_reject: next_window
  - id: supplier
    match: {products: [supplier], currency: EUR}
    max_item_amount: "1000.00"
    channels: [batch]
    window: {every_minutes: 10, timezone: Europe/Berlin}
    close_early_at_amount: "40000.00"
    close_early_at_items: 400
    on_reject: individual
  - id: small
    match: {currency: EUR}
    max_item_amount: "400.00"
    channels: [batch]
    window: {every_minutes: 10, timezone: Europe/Berlin}
    close_early_at_amount: "40000.00"
    on_reject: next_window
"""


@pytest.fixture
async def rails() -> AsyncIterator[RailsHandle]:
    handle = await start_rails(clock=SimClock(BUSINESS_MORNING, SPEED))
    yield handle
    await handle.stop()


def merge_settings(dsn: str, tmp_path: Path, rules: str = RULES) -> Any:
    path = tmp_path / "merge.yaml"
    path.write_text(rules)
    return settings_for(dsn, tmp_path, merging_file=path, clock_speed=SPEED)


def small_order(n: int, payee: int, amount: str, product: str | None) -> dict[str, Any]:
    body = order(n, amount=amount)
    body["creditor_account"] = {"iban": PAYEES[payee]}
    body["creditor"] = {"name": f"Payee {payee}"}
    if product is not None:
        body["product"] = product
    return body


async def insert_many(
    gw: Gateway, bodies: list[dict[str, Any]], tag: str = "bulk"
) -> list[uuid.UUID]:
    """The API's own durable insert, without 10k HTTP round trips."""
    async with gw.pool.acquire() as conn:
        client = await ensure_client(conn, "acme")
    ids: list[uuid.UUID] = []

    async def one(i: int, body: dict[str, Any]) -> None:
        o = PaymentOrder.model_validate(body)
        new = repo.NewPayment(
            client_id=client,
            idempotency_key=f"{tag}-{i}",
            fingerprint=hashlib.sha256(json.dumps(body, sort_keys=True).encode()).digest(),
            order=o,
            order_doc=o.model_dump(mode="json"),
        )
        async with gw.pool.acquire() as conn:
            _, resp = await repo.insert_payment(conn, new, dt.datetime.now(dt.UTC))
        ids.append(uuid.UUID(resp["id"]))

    for start in range(0, len(bodies), 500):
        chunk = bodies[start : start + 500]
        await asyncio.gather(*(one(start + i, b) for i, b in enumerate(chunk)))
    return ids


async def until(check: Callable[[], Awaitable[bool]], what: str, bound_s: float = 40.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + bound_s
    while loop.time() < deadline:
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def statuses(pool: Any, ids: list[uuid.UUID]) -> dict[str, int]:
    rows = await pool.fetch(
        "SELECT status, count(*) AS n FROM payments WHERE id = ANY($1::uuid[]) GROUP BY 1", ids
    )
    return {r["status"]: r["n"] for r in rows}


async def all_in(pool: Any, ids: list[uuid.UUID], status: str) -> bool:
    return (await statuses(pool, ids)).get(status, 0) == len(ids)


async def ledger(handle: RailsHandle, rail: str) -> list[dict[str, Any]]:
    async with aiohttp.ClientSession() as s, s.get(f"{handle.base_url(rail)}/_ledger") as r:
        data = await r.json()
    return data["entries"] if isinstance(data, dict) else data


async def control(handle: RailsHandle, rail: str, patch: dict[str, Any]) -> None:
    async with (
        aiohttp.ClientSession() as s,
        s.post(f"{handle.base_url(rail)}/_control", json=patch) as r,
    ):
        assert r.status == 200, await r.text()


async def check_merges_consistent(pool: Any, ids: list[uuid.UUID], handle: RailsHandle) -> None:
    """Each item in exactly one live merge; totals = sum of items; each settled merge is
    exactly one settled line on the batch rail's ledger, for its total."""
    dup = await pool.fetchval(
        "SELECT count(*) FROM (SELECT payment_id FROM merge_items WHERE NOT released "
        "GROUP BY payment_id HAVING count(*) > 1) d"
    )
    assert dup == 0
    linked = await pool.fetchval(
        "SELECT count(*) FROM merge_items WHERE NOT released AND payment_id = ANY($1::uuid[])",
        ids,
    )
    if linked != len(ids):
        why = await pool.fetch(
            """SELECT e.reason, count(*) AS n FROM payment_events e
               WHERE e.payment_id = ANY($1::uuid[]) AND NOT EXISTS (
                   SELECT 1 FROM merge_items i WHERE i.payment_id = e.payment_id
                   AND NOT i.released)
               GROUP BY 1 ORDER BY 2 DESC LIMIT 8""",
            ids,
        )
        raise AssertionError(f"{len(ids) - linked} items in no live merge: {why}")
    bad_totals = await pool.fetchval(
        """SELECT count(*) FROM merges m WHERE m.status = 'settled' AND m.total <> (
               SELECT sum(p.amount) FROM merge_items i JOIN payments p ON p.id = i.payment_id
               WHERE i.merge_id = m.id AND NOT i.released)"""
    )
    assert bad_totals == 0
    merges = await pool.fetch(
        "SELECT reference, total, channel FROM merges WHERE status = 'settled'"
    )
    lines: dict[str, list[dict[str, Any]]] = {}
    for e in await ledger(handle, "batch"):
        lines.setdefault(e["end_to_end_id"], []).append(e)
    for m in merges:
        assert m["channel"] == "batch"
        found = lines.get(m["reference"], [])
        assert len(found) == 1, (m["reference"], found)
        assert found[0]["status"] == "settled"
        assert Decimal(found[0]["amount"]) == m["total"]
    # No item went to the rail on its own.
    item_e2e = {
        r["end_to_end_id"]
        for r in await pool.fetch(
            "SELECT end_to_end_id FROM payments WHERE id = ANY($1::uuid[])", ids
        )
    }
    assert not item_e2e & set(lines)


async def test_many_small_payments_settle_once_in_one_merge(
    fresh_dsn: str, tmp_path: Path, rails: RailsHandle
) -> None:
    # 2000 by default (the suite's budget); PAYGATE_TEST_MERGE_ITEMS=10000 for the 10k.
    n = MERGE_ITEMS
    urls = {r: rails.base_url(r) for r in rails.rail_ids}
    products = ["payroll", "supplier", None]
    bodies = [
        small_order(i, i % 20, f"{10 + (i * 7) % 390}.{i % 100:02d}", products[i % 3])
        for i in range(n)
    ]
    async with running_gateway(
        merge_settings(fresh_dsn, tmp_path), endpoints=endpoints_for_urls(urls)
    ) as gw:
        ids = await insert_many(gw, bodies)
        await until(lambda: all_in(gw.pool, ids, "settled"), "every item settled", max(50, n / 40))
        await check_merges_consistent(gw.pool, ids, rails)
        rules = {r["rule_id"] for r in await gw.pool.fetch("SELECT rule_id FROM merges")}
        assert rules == {"payroll", "supplier", "small"}
        # Items carry their merge; the merge reports the saving from the tariff.
        async with gw.session.get(f"{gw.url}/v1/payments/{ids[0]}", headers=gw.headers()) as r:
            item = await r.json()
        assert item["status"] == "settled" and item["merge_id"] is not None
        async with gw.session.get(
            f"{gw.url}/v1/merges/{item['merge_id']}", headers=gw.headers()
        ) as r:
            merge = await r.json()
        assert r.status == 200, merge
        assert merge["status"] == "settled"
        assert str(ids[0]) in {i["payment_id"] for i in merge["items"]}
        assert Decimal(merge["fee_if_single"]) == Decimal("0.20") * merge["item_count"]
        async with gw.session.get(f"{gw.url}/v1/merges/savings?by=rule", headers=gw.headers()) as r:
            savings = await r.json()
        assert {g["rule"] for g in savings["groups"]} == {"payroll", "supplier", "small"}
        # One item returned after settlement: only it; the rest of its merge stays settled.
        async with gw.session.post(
            f"{gw.url}/v1/payments/{ids[0]}/return", headers=gw.headers()
        ) as r:
            assert r.status == 200, await r.text()
            assert (await r.json())["status"] == "returned"
        others = [uuid.UUID(i["payment_id"]) for i in merge["items"]]
        assert await statuses(gw.pool, others) == {"returned": 1, "settled": len(others) - 1}
        events = await repo.events(gw.pool, ids[0])
        assert events[-1].to_status == "returned" and "refund" in (events[-1].data or {})
        async with gw.session.post(
            f"{gw.url}/v1/payments/{ids[0]}/return", headers=gw.headers()
        ) as r:
            assert r.status == 409
        figures = await print_merge_savings(
            Console(record=True, width=140), gw.pool, gw.app[ROUTING]
        )
        assert figures["items"] == n
        assert figures["fee_charged"] == Decimal("0.20") * figures["merges"]
        assert figures["saved"] == Decimal("0.20") * (n - figures["merges"])
        for g in savings["groups"]:  # one 0.20 batch fee per merge instead of one per item
            assert Decimal(g["fee_charged"]) == Decimal("0.20") * g["merges"]
            assert Decimal(g["fee_if_single"]) == Decimal("0.20") * g["items"]


LATER = """
version: "test-2"
rules:
  - id: later
    match: {products: [later], currency: EUR}
    max_item_amount: "1000.00"
    channels: [batch]
    window: {at: ["19:00"], timezone: Europe/Berlin}
    close_early_at_items: 2
    safety_margin_minutes: 2
"""


async def post(gw: Gateway, body: dict[str, Any], idem: str) -> str:
    async with gw.session.post(f"{gw.url}/v1/payments", json=body, headers=gw.headers(idem)) as r:
        assert r.status == 201, await r.text()
        return str((await r.json())["id"])


async def status_of(gw: Gateway, pid: str) -> str:
    async with gw.session.get(f"{gw.url}/v1/payments/{pid}", headers=gw.headers()) as r:
        return str((await r.json())["status"])


async def test_cancel_before_and_after_close_and_deadline_wins(
    fresh_dsn: str, tmp_path: Path, rails: RailsHandle
) -> None:
    urls = {r: rails.base_url(r) for r in rails.rail_ids}
    async with running_gateway(
        merge_settings(fresh_dsn, tmp_path, LATER), endpoints=endpoints_for_urls(urls)
    ) as gw:
        # Alone in its bucket, window at 19:00: it waits, visibly, and can be cancelled.
        alone = await post(gw, small_order(1, 0, "10.00", "later"), "c-1")

        async def pending() -> bool:
            return await status_of(gw, alone) == "pending_merge"

        await until(pending, "pending_merge")
        async with gw.session.post(
            f"{gw.url}/v1/payments/{alone}/cancel", headers=gw.headers()
        ) as r:
            assert r.status == 200, await r.text()
            assert (await r.json())["status"] == "cancelled"
        # Two items fill a bucket (close_early_at_items 2): closed at once, cancel is 409.
        pair = [await post(gw, small_order(n, 1, "20.00", "later"), f"c-{n}") for n in (2, 3)]

        async def closed() -> bool:
            return all([await status_of(gw, p) in ("submitted", "settled") for p in pair])

        await until(closed, "the pair merged")
        async with gw.session.post(
            f"{gw.url}/v1/payments/{pair[0]}/cancel", headers=gw.headers()
        ) as r:
            assert r.status == 409, await r.text()
            assert "merge" in (await r.json())["detail"]
        # A deadline 20 simulated minutes away cannot wait for 19:00: it closes now.
        deadline = BUSINESS_MORNING + dt.timedelta(minutes=20)
        urgent = await post(
            gw, small_order(4, 2, "30.00", "later") | {"deadline": deadline.isoformat()}, "c-4"
        )

        async def urgent_closed() -> bool:
            return await status_of(gw, urgent) in ("submitted", "settled")

        await until(urgent_closed, "the urgent item merged")
        row = await gw.pool.fetchrow(
            "SELECT m.reason, m.closed_at FROM merges m JOIN merge_items i ON i.merge_id = m.id "
            "WHERE i.payment_id = $1",
            uuid.UUID(urgent),
        )
        assert row["reason"] == "deadline"
        assert row["closed_at"] <= deadline - dt.timedelta(minutes=2)
        await until(lambda: all_in(gw.pool, [uuid.UUID(p) for p in pair], "settled"), "settle")
        assert await status_of(gw, alone) == "cancelled"


async def test_rejected_merge_items_are_replanned_none_lost(
    fresh_dsn: str, tmp_path: Path, rails: RailsHandle
) -> None:
    await control(rails, "batch", {"reject_rate": 1.0, "seed": 3})
    urls = {r: rails.base_url(r) for r in rails.rail_ids}
    async with running_gateway(
        merge_settings(fresh_dsn, tmp_path), endpoints=endpoints_for_urls(urls)
    ) as gw:
        payroll = await insert_many(gw, [small_order(i, 3, "50.00", "payroll") for i in range(20)])
        supplier = await insert_many(
            gw, [small_order(100 + i, 4, "60.00", "supplier") for i in range(5)], "sup"
        )

        async def rejected_both() -> bool:
            rules = await gw.pool.fetch("SELECT rule_id FROM merges WHERE status = 'rejected'")
            return {r["rule_id"] for r in rules} >= {"payroll", "supplier"}

        await until(rejected_both, "a rejected merge per rule")
        await control(rails, "batch", {"reject_rate": 0.0})
        await until(lambda: all_in(gw.pool, payroll + supplier, "settled"), "all settled")
        # next_window: merged again, once, into a settled merge, with the reason on record.
        await check_merges_consistent(gw.pool, payroll, rails)
        reasons = [e.reason for e in await repo.events(gw.pool, payroll[0])]
        assert any("rejected" in r and "next window" in r for r in reasons)
        # individual: paid alone, in no live merge.
        live = await gw.pool.fetchval(
            "SELECT count(*) FROM merge_items WHERE NOT released AND payment_id = ANY($1)",
            supplier,
        )
        assert live == 0
        reasons = [e.reason for e in await repo.events(gw.pool, supplier[0])]
        assert any("on its own" in r for r in reasons)


async def test_two_gateways_on_one_database_never_merge_an_item_twice(
    fresh_dsn: str, tmp_path: Path, rails: RailsHandle
) -> None:
    urls = {r: rails.base_url(r) for r in rails.rail_ids}
    settings = merge_settings(fresh_dsn, tmp_path)
    async with AsyncExitStack() as stack:
        one = await stack.enter_async_context(
            running_gateway(settings, endpoints=endpoints_for_urls(urls))
        )
        await stack.enter_async_context(
            running_gateway(settings, endpoints=endpoints_for_urls(urls))
        )
        products = ["payroll", "supplier", None]
        ids = await insert_many(
            one, [small_order(i, i % 20, "25.00", products[i % 3]) for i in range(1000)]
        )
        await until(lambda: all_in(one.pool, ids, "settled"), "every item settled", 50)
        await check_merges_consistent(one.pool, ids, rails)


LATE = """
version: "test-3"
rules:
  - id: evening
    match: {currency: EUR}
    max_item_amount: "1000.00"
    channels: [batch]
    window: {at: ["21:00"], timezone: Europe/Berlin}
    safety_margin_minutes: 2
"""


async def test_cutoff_wins_over_a_later_window(fresh_dsn: str, tmp_path: Path) -> None:
    # 19:45 in Berlin: the batch rail closes at 20:00, the rule's window is 21:00.
    start = dt.datetime(2026, 11, 24, 18, 45, tzinfo=dt.UTC)
    handle = await start_rails(clock=SimClock(start, SPEED))
    try:
        urls = {r: handle.base_url(r) for r in handle.rail_ids}
        settings = merge_settings(fresh_dsn, tmp_path, LATE).model_copy(
            update={"clock_start": start}
        )
        async with running_gateway(settings, endpoints=endpoints_for_urls(urls)) as gw:
            ids = await insert_many(gw, [small_order(i, 5, "40.00", None) for i in range(3)])

            async def merged() -> bool:
                n = await gw.pool.fetchval(
                    "SELECT count(*) FROM merge_items WHERE payment_id = ANY($1)", ids
                )
                return bool(n == len(ids))

            await until(merged, "the items merged before the cut-off")
            row = await gw.pool.fetchrow("SELECT reason, closed_at FROM merges")
            cutoff = dt.datetime(2026, 11, 24, 19, 0, tzinfo=dt.UTC)  # 20:00 Berlin
            assert row["reason"] == "cutoff"
            assert row["closed_at"] < cutoff
    finally:
        await handle.stop()


async def test_merge_closed_but_never_sent_is_submitted_once_after_restart(
    fresh_dsn: str, tmp_path: Path, rails: RailsHandle
) -> None:
    urls = {r: rails.base_url(r) for r in rails.rail_ids}
    settings = merge_settings(fresh_dsn, tmp_path)
    async with running_gateway(
        settings, endpoints=endpoints_for_urls(urls), run_workers=False
    ) as gw:
        ids = await insert_many(gw, [small_order(i, i % 4, "15.00", "payroll") for i in range(40)])
        await gw.dispatcher.run_until_idle()  # intake: every item pending_merge
        assert await all_in(gw.pool, ids, "pending_merge")
        worker = gw.app[MERGE_WORKER]

        async def closed() -> bool:
            await worker.tick()
            return await all_in(gw.pool, ids, "submitted")

        await until(closed, "the window closed")
        # The process "dies" here: merges committed, aggregates never sent.
    assert await ledger(rails, "batch") == []
    async with running_gateway(settings, endpoints=endpoints_for_urls(urls)) as gw:
        await until(lambda: all_in(gw.pool, ids, "settled"), "every item settled after restart")
        await check_merges_consistent(gw.pool, ids, rails)
        assert await gw.pool.fetchval("SELECT count(*) FROM merges") == 4


async def test_rails_closed_items_wait_unless_their_deadline_cannot(
    fresh_dsn: str, tmp_path: Path
) -> None:
    # 20:30 in Berlin: the batch rail is closed until tomorrow 06:00.
    start = dt.datetime(2026, 11, 24, 19, 30, tzinfo=dt.UTC)
    handle = await start_rails(clock=SimClock(start, SPEED))
    try:
        urls = {r: handle.base_url(r) for r in handle.rail_ids}
        settings = merge_settings(fresh_dsn, tmp_path, LATE).model_copy(
            update={"clock_start": start}
        )
        async with running_gateway(settings, endpoints=endpoints_for_urls(urls)) as gw:
            deadline = (start + dt.timedelta(minutes=20)).isoformat()
            waiting = await insert_many(gw, [small_order(1, 6, "40.00", None)], "w")
            urgent = await insert_many(
                gw, [small_order(2, 6, "40.00", None) | {"deadline": deadline}], "u"
            )
            await until(lambda: all_in(gw.pool, urgent, "settled"), "the urgent item paid alone")
            assert await all_in(gw.pool, waiting, "pending_merge")
            assert await gw.pool.fetchval("SELECT count(*) FROM merges") == 0
            channel = await gw.pool.fetchval(
                "SELECT channel FROM payments WHERE id = $1", urgent[0]
            )
            assert channel != "batch"
    finally:
        await handle.stop()
