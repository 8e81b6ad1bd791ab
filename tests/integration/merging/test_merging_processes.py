"""Merging (并笔) in a real ``paygate serve`` process, SIGKILLed while merges are being closed
and restarted: every item is still settled exactly once, in exactly one live merge, each
merge's total is the sum of its items, and each settled merge is exactly one settled line
on the batch rail's own ledger."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from simulators import RailsHandle, SimClock, start_rails
from tests.integration.gateway.harness import BUSINESS_MORNING
from tests.integration.gateway.test_processes import _env, _free_port, _key, _ready, _serve
from tests.integration.merging.test_merging_gateway import (
    check_merges_consistent,
    small_order,
)

SPEED = 600.0  # a 10-minute window closes every real second
ITEMS = 1200
RULES = """
version: "kill-1"
rules:
  - id: payroll
    match: {products: [payroll], currency: EUR}
    max_item_amount: "1000.00"
    channels: [batch]
    window: {every_minutes: 10, timezone: Europe/Berlin}
    close_early_at_amount: "40000.00"
    close_early_at_items: 20
    on_reject: next_window
  - id: supplier
    match: {products: [supplier], currency: EUR}
    max_item_amount: "1000.00"
    channels: [batch]
    window: {every_minutes: 10, timezone: Europe/Berlin}
    close_early_at_amount: "40000.00"
    on_reject: individual
  - id: small
    match: {currency: EUR}
    max_item_amount: "400.00"
    channels: [batch]
    window: {every_minutes: 10, timezone: Europe/Berlin}
    close_early_at_amount: "40000.00"
    close_early_at_items: 30
    on_reject: next_window
"""


@pytest.fixture
async def rails() -> AsyncIterator[RailsHandle]:
    handle = await start_rails(clock=SimClock(BUSINESS_MORNING, SPEED))
    yield handle
    await handle.stop()


def _merge_env(dsn: str, tmp: Path, rails: RailsHandle, port: int) -> dict[str, str]:
    rules = tmp / "merge.yaml"
    rules.write_text(RULES)
    env = _env(dsn, tmp, rails, port)
    env.update(
        PAYGATE_MERGING_FILE=str(rules),
        PAYGATE_CLOCK_SPEED=str(SPEED),
        # The gateway's business clock follows the rails' (a restart resumes it, not rewinds).
        PAYGATE_CLOCK_START=rails.clock.now().isoformat(),
    )
    return env


async def _post_items(url: str, key: str, n: int) -> dict[str, str]:
    """Post n small payments to 20 payees under 3 rules, over the kill: a connection error
    leaves an order unacknowledged, so it is retried with the same Idempotency-Key."""
    acked: dict[str, str] = {}
    sem = asyncio.Semaphore(8)
    products = ["payroll", "supplier", None]

    async def one(i: int, s: aiohttp.ClientSession) -> None:
        idem = f"mk-{i}"
        body = small_order(i, i % 20, f"{10 + (i * 7) % 390}.{i % 100:02d}", products[i % 3])
        async with sem:
            for _ in range(200):
                try:
                    async with s.post(
                        f"{url}/v1/payments",
                        json=body,
                        headers={"Authorization": f"Bearer {key}", "Idempotency-Key": idem},
                    ) as r:
                        if r.status == 201:
                            acked[idem] = (await r.json())["id"]
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)

    async with aiohttp.ClientSession() as s:
        await asyncio.gather(*(one(i, s) for i in range(n)))
    return acked


async def _poll(conn: asyncpg.Connection, sql: str, args: list[Any], bound_s: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + bound_s
    while loop.time() < deadline:
        if await conn.fetchval(sql, *args):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out: {sql}")


async def test_sigkill_while_closing_merges_then_restart(
    fresh_dsn: str, tmp_path: Path, rails: RailsHandle
) -> None:
    key = await _key(fresh_dsn)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    proc: subprocess.Popen[bytes] = _serve(_merge_env(fresh_dsn, tmp_path, rails, port))
    conn = await asyncpg.connect(fresh_dsn)
    try:
        await _ready(url)
        loader = asyncio.create_task(_post_items(url, key, ITEMS))
        # Kill while windows are closing: some merges committed (at least one already
        # settled or in flight), items still waiting, more merges to come.
        await _poll(
            conn,
            """SELECT (SELECT count(*) FROM merges) >= 5
                  AND (SELECT count(*) FROM payments WHERE status = 'pending_merge') > 0""",
            [],
            60,
        )
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        at_kill = await conn.fetchrow(
            """SELECT (SELECT count(*) FROM merges) AS merges,
                      (SELECT count(*) FROM merges WHERE status = 'settled') AS settled,
                      (SELECT count(*) FROM payments WHERE status = 'pending_merge') AS pending"""
        )
        assert at_kill is not None and at_kill["merges"] >= 5 and at_kill["pending"] > 0
        proc = _serve(_merge_env(fresh_dsn, tmp_path, rails, port))
        await _ready(url)
        acked = await asyncio.wait_for(loader, 120)
        assert len(acked) == ITEMS
        ids = [uuid.UUID(v) for v in acked.values()]
        await _poll(
            conn,
            "SELECT count(*) = $2 FROM payments WHERE id = ANY($1::uuid[]) AND status = 'settled'",
            [ids, len(ids)],
            120,
        )
        await check_merges_consistent(conn, ids, rails)
        # Every merge is settled (none left half-closed or submitted twice), and the items
        # of each merge are exactly the ones the rail settled in one line for its total.
        left = await conn.fetch("SELECT id, status FROM merges WHERE status <> 'settled'")
        assert left == []
        twice = await conn.fetchval(
            "SELECT count(*) FROM (SELECT payment_id FROM submissions GROUP BY 1 "
            "HAVING count(*) > 1) d"
        )
        assert twice == 0
        rules = {r["rule_id"] for r in await conn.fetch("SELECT DISTINCT rule_id FROM merges")}
        assert rules == {"payroll", "supplier", "small"}
        assert at_kill["merges"] < await conn.fetchval("SELECT count(*) FROM merges")
    finally:
        await conn.close()
        proc.terminate()
        proc.wait(timeout=10)
