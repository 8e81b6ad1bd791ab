"""Merging benchmark: plan AND commit ``n`` pending items into merges in a real PostgreSQL.

Setup (not timed): migrate, insert ``n`` small payments to 200 payees under 3 rules with the
gateway's own set-based insert, and put them in ``pending_merge`` as intake would. Timed:
the merge worker's real closing path, ``MergeWorker.close_due`` — lock the pending items
(``FOR UPDATE SKIP LOCKED``), plan them with the pure planner, and for every planned merge
take its advisory lock, insert the merge, link its items in the anti-duplicate table and
create the aggregate payment — committed. Target for 100k: ≤ 5 s. Timed separately, and
reported: the step ``tick`` runs right after each close, ``MergeWorker.move_items`` (every
item ``pending_merge → submitted`` with its event), and the sum of both.

    python -m paygate.bench.merging_bench DSN [n]
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sys
import time
from decimal import Decimal
from typing import Any

import asyncpg

from paygate.api.app import DEFAULT_ROUTING
from paygate.domain import PaymentOrder
from paygate.engine.clock import SimulatedClock
from paygate.engine.merge_worker import MergeWorker
from paygate.engine.routing_service import RoutingService
from paygate.merging import load_merge_config_text
from paygate.store import payments as repo
from paygate.store.clients import ensure_client
from paygate.store.migrate import migrate
from routing import load_config

# A business morning in Berlin; items arrived over the previous hour, so windows are due.
NOW = dt.datetime(2026, 11, 24, 9, 30, tzinfo=dt.UTC)
PAYEES = 200
RULES = """
version: "bench-1"
rules:
  - id: payroll
    match: {products: [payroll], currency: EUR}
    max_item_amount: "1000.00"
    channels: [batch]
    window: {every_minutes: 10, timezone: Europe/Berlin}
    close_early_at_items: 5000
  - id: supplier
    match: {products: [supplier], currency: EUR}
    max_item_amount: "1000.00"
    channels: [batch]
    window: {every_minutes: 10, timezone: Europe/Berlin}
    close_early_at_amount: "1000000.00"
    on_reject: individual
  - id: small
    match: {currency: EUR}
    max_item_amount: "400.00"
    channels: [batch]
    window: {every_minutes: 10, timezone: Europe/Berlin}
"""


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


_PRODUCTS = ("payroll", "supplier", None)
_RULE_OF = {"payroll": "payroll", "supplier": "supplier", None: "small"}


def _iban(bban: str, country: str = "DE") -> str:
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{country}{98 - int(digits) % 97:02d}{bban}"


def _order(i: int, payee: str) -> PaymentOrder:
    product = _PRODUCTS[i % 3]
    body: dict[str, Any] = {
        "amount": {"value": f"{10 + (i * 7) % 390}.{i % 100:02d}", "currency": "EUR"},
        "debtor": {"name": "Acme GmbH"},
        "debtor_account": {"iban": "DE89370400440532013000"},
        "debtor_agent": {"bic": "DEUTDEFF"},
        "creditor": {"name": f"Payee {i % PAYEES}"},
        "creditor_account": {"iban": payee},
        "creditor_agent": {"bic": "BYLADEM1001"},
        "end_to_end_id": f"BENCH-{i}",
    }
    if product is not None:
        body["product"] = product
    return PaymentOrder.model_validate(body)


async def _seed(pool: asyncpg.Pool, n: int) -> None:
    payees = [_iban(f"12030000{p:010d}") for p in range(PAYEES)]
    async with pool.acquire() as conn:
        client = await ensure_client(conn, "bench")
    since = NOW - dt.timedelta(minutes=30)
    chunk = 5_000
    for start in range(0, n, chunk):
        batch = []
        for i in range(start, min(n, start + chunk)):
            o = _order(i, payees[i % PAYEES])
            new = repo.NewPayment(
                client_id=client,
                idempotency_key=f"bench-{i}",
                fingerprint=i.to_bytes(8, "big"),
                order=o,
                order_doc=o.model_dump(mode="json"),
            )
            batch.append((new, since))
        async with pool.acquire() as conn, conn.transaction():
            await repo.insert_payments(conn, batch)
    # What intake does, set-based: validated → pending_merge under the rule it matched.
    async with pool.acquire() as conn:
        await conn.execute(
            """UPDATE payments SET status = 'pending_merge', merge_since = $1,
                   merge_rule = CASE product WHEN 'payroll' THEN 'payroll'
                       WHEN 'supplier' THEN 'supplier' ELSE 'small' END,
                   next_action = NULL, next_action_at = NULL
               WHERE status = 'validated' AND client_id = $2""",
            since,
            client,
        )
        await conn.execute("ANALYZE payments")


async def run(dsn: str, n: int = 100_000, page: int = 20_000) -> dict[str, Any]:
    """Seed ``n`` pending items into the (empty) database at ``dsn``, then time one
    closing pass over all of them; returns counts and seconds."""
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn)
        existing = await conn.fetchval("SELECT count(*) FROM payments")
    finally:
        await conn.close()
    if existing:
        raise RuntimeError("the merging bench needs an empty database")
    pool = await asyncpg.create_pool(dsn, min_size=2, max_size=4, init=_init_connection)
    assert pool is not None
    try:
        started = time.perf_counter()
        await _seed(pool, n)
        seed_s = time.perf_counter() - started
        worker = MergeWorker(
            pool,
            load_merge_config_text(RULES, "bench rules"),
            RoutingService(load_config(DEFAULT_ROUTING)),
            SimulatedClock(NOW, 1.0),
            page=page,
        )
        await worker.start()
        # What ``tick`` does, with its two halves timed apart: close, then move the items.
        merges = ticks = 0
        elapsed = moved_s = 0.0
        while True:
            started = time.perf_counter()
            closed = await worker.close_due()
            elapsed += time.perf_counter() - started
            started = time.perf_counter()
            await worker.move_items()
            moved_s += time.perf_counter() - started
            if not closed:
                break
            merges += closed
            ticks += 1
        unmoved = await pool.fetchval(
            "SELECT count(*) FROM payments p JOIN merge_items i ON i.payment_id = p.id "
            "WHERE p.status <> 'submitted' OR p.merge_id IS DISTINCT FROM i.merge_id"
        )
        row = await pool.fetchrow(
            """SELECT count(*) AS merges, coalesce(sum(item_count), 0) AS items,
                      coalesce(sum(total), 0) AS total FROM merges"""
        )
        assert row is not None
        items_total: Decimal = await pool.fetchval(
            "SELECT coalesce(sum(p.amount), 0) FROM merge_items i "
            "JOIN payments p ON p.id = i.payment_id"
        )
        left = await pool.fetchval("SELECT count(*) FROM payments WHERE status = 'pending_merge'")
    finally:
        await pool.close()
    if row["total"] != items_total:
        raise AssertionError(f"merge totals {row['total']} != sum of items {items_total}")
    if unmoved:
        raise AssertionError(f"{unmoved} merged items not moved to submitted")
    return {
        "items": n,
        "merges": merges,
        "transactions": ticks,
        "merged_items": int(row["items"]),
        "left_pending": int(left),
        "seed_seconds": round(seed_s, 3),
        "plan_and_commit_seconds": round(elapsed, 3),
        "items_per_second": round(n / elapsed) if elapsed > 0 else 0,
        "move_to_submitted_seconds": round(moved_s, 3),
        "close_and_move_seconds": round(elapsed + moved_s, 3),
        "target_seconds": 5.0,
    }


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit("usage: python -m paygate.bench.merging_bench DSN [n]")
    print(asyncio.run(run(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 100_000)))
