"""Daily and monthly figures per rail for the operations view: set-based SQL over the
payments table, the same numbers as the pure fold over loaded records, served at
``GET /v1/reports/aggregates`` (operator scope) and shown in the HTML report."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from paygate.recon import repository as repo
from paygate.recon.aggregates import aggregate
from paygate.recon.gateway_records import load_records
from paygate.store.clients import create_key
from tests.integration.gateway.harness import running_gateway, settings_for
from tests.integration.recon.recon_world import OPEN_TIME, S, record
from tests.integration.simulators.sim_messages import Tx

pytestmark = pytest.mark.asyncio(loop_scope="session")

NEXT_MONTH = dt.timedelta(days=20)  # 2024-01-17 -> 2024-02-06


async def _world(pool: Any) -> None:
    """rtgs: 3 settled + 1 rejected on 2024-01-17, 1 settled on 2024-02-06 (EUR);
    instant: 1 settled + 1 accepted (in flight) on 2024-01-17 (EUR and CNY)."""
    plan = [
        ("rtgs", "R1", "100.00", "EUR", S.SETTLED, False),
        ("rtgs", "R2", "101.50", "EUR", S.SETTLED, False),
        ("rtgs", "R3", "0.25", "EUR", S.SETTLED, False),
        ("rtgs", "R4", "50.00", "EUR", S.REJECTED, False),
        ("rtgs", "R5", "7.00", "EUR", S.SETTLED, True),
        ("instant", "I1", "12.34", "CNY", S.SETTLED, False),
        ("instant", "I2", "9.00", "EUR", S.ACCEPTED, False),
    ]
    for n, (channel, ref, amount, ccy, final, later) in enumerate(plan):
        tx = Tx(f"AGG-{ref}", amount, ccy=ccy, e2e=f"E2E-AGG-{ref}")
        pid = await record(pool, tx, final, channel=channel, n=n)
        if later:
            async with pool.acquire() as conn:
                await conn.execute(
                    "UPDATE payments SET created_at = created_at + $2 WHERE id = $1",
                    pid,
                    NEXT_MONTH,
                )


async def test_aggregates_per_rail_day_and_month(fresh_dsn: str, tmp_path: Path) -> None:
    settings = settings_for(fresh_dsn, tmp_path)
    async with running_gateway(settings, run_workers=False) as gw:
        await _world(gw.pool)

        async def get(query: str, key: str | None = None) -> tuple[int, Any]:
            url = f"{gw.url}/v1/reports/aggregates?{query}"
            async with gw.session.get(url, headers=gw.headers(key=key)) as r:
                return r.status, await r.json(content_type=None)

        status, body = await get("period=day")
        assert status == 200, body
        assert body["aggregates"] == [
            {
                "channel": "instant",
                "period": "2024-01-17",
                "volume": 2,
                "settled": 1,
                "failed": 0,
                "success_rate": "1.0000",
                "amount": {"CNY": "12.34"},
            },
            {
                "channel": "rtgs",
                "period": "2024-01-17",
                "volume": 4,
                "settled": 3,
                "failed": 1,
                "success_rate": "0.7500",
                "amount": {"EUR": "201.75"},
            },
            {
                "channel": "rtgs",
                "period": "2024-02-06",
                "volume": 1,
                "settled": 1,
                "failed": 0,
                "success_rate": "1.0000",
                "amount": {"EUR": "7.00"},
            },
        ]
        status, body = await get("period=month&channel=rtgs")
        assert status == 200
        assert [(a["period"], a["volume"], a["amount"]) for a in body["aggregates"]] == [
            ("2024-01", 4, {"EUR": "201.75"}),
            ("2024-02", 1, {"EUR": "7.00"}),
        ]
        status, body = await get("period=month&from=2024-02-01&to=2024-02-06")
        assert [(a["channel"], a["period"]) for a in body["aggregates"]] == [("rtgs", "2024-02")]

        status, problem = await get("period=week&from=yesterday")
        assert status == 422
        assert [e["pointer"] for e in problem["errors"]] == ["/query/period", "/query/from"]
        async with gw.pool.acquire() as conn:
            reader = await create_key(conn, "auditor", {"read"})
        status, _ = await get("period=day", key=reader)
        assert status == 403

        async with gw.session.get(f"{gw.url}/openapi.json") as r:
            doc = await r.json()
        assert "get" in doc["paths"]["/v1/reports/aggregates"]

        # Set-based SQL and the pure fold over loaded records agree.
        since = OPEN_TIME - dt.timedelta(days=1)
        for period in ("day", "month"):
            async with gw.pool.acquire() as conn:
                sql = await repo.rail_aggregates(conn, period)
            loaded = [
                r for ch in ("instant", "rtgs") for r in await load_records(gw.pool, ch, since)
            ]
            assert sql == aggregate(loaded, period)
            assert sum(a.amount.get("EUR", Decimal(0)) for a in sql) == Decimal("208.75")
