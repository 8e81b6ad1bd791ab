"""The lifecycle against the real simulated rails over HTTP: lost answers, rejections,
failover — each checked against the rail's own ledger."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from paygate.channels.registry import endpoints_for_urls
from simulators import RailsHandle
from tests.integration.gateway.harness import (
    Gateway,
    control,
    ledger,
    order,
    running_gateway,
    settings_for,
    timeline,
)


async def submit_and_settle(gw: Gateway, body: dict[str, Any], key: str) -> dict[str, Any]:
    async with gw.session.post(f"{gw.url}/v1/payments", json=body, headers=gw.headers(key)) as r:
        assert r.status == 201, await r.text()
        pid = (await r.json())["id"]
    for _ in range(400):
        async with gw.session.get(f"{gw.url}/v1/payments/{pid}", headers=gw.headers()) as r:
            payment = await r.json()
        if payment["status"] in ("settled", "rejected", "failed"):
            return payment
        await asyncio.sleep(0.025)
    raise AssertionError(f"payment stuck in {payment['status']}")


async def test_lost_response_becomes_unknown_then_settles_once(
    fresh_dsn: str, tmp_path: Path, rails: RailsHandle
) -> None:
    await control(rails, "rtgs", {"lost_response_rate": 1.0, "seed": 7})
    urls = {r: rails.base_url(r) for r in rails.rail_ids}
    settings = settings_for(fresh_dsn, tmp_path)
    async with running_gateway(settings, endpoints=endpoints_for_urls(urls)) as gw:
        # High value EUR: only rtgs can carry it.
        body = order(1, amount="250000.00", priority="urgent")
        payment = await submit_and_settle(gw, body, "lost-1")
        assert payment["status"] == "settled"
        assert payment["channel"] == "rtgs"
        steps = await timeline(gw, payment["id"])
        assert "unknown" in steps
        assert steps[-1] == "settled"
    entries = [e for e in await ledger(rails, "rtgs") if e["uetr"] == payment["uetr"]]
    assert len(entries) == 1
    assert entries[0]["status"] == "settled"


async def test_definitive_reject_fails_over_and_settles_once(
    fresh_dsn: str, tmp_path: Path, rails: RailsHandle
) -> None:
    await control(rails, "batch", {"reject_rate": 1.0, "reject_reasons": {"AM04": 1.0}})
    urls = {r: rails.base_url(r) for r in rails.rail_ids}
    settings = settings_for(fresh_dsn, tmp_path)
    async with running_gateway(settings, endpoints=endpoints_for_urls(urls)) as gw:
        body = order(2, amount="120.00")  # small EUR: batch is the cheapest rail
        payment = await submit_and_settle(gw, body, "rej-1")
        assert payment["status"] == "settled"
        assert payment["channel"] != "batch"
        steps = await timeline(gw, payment["id"])
        assert steps.count("submitted") == 2
        first = await ledger(rails, "batch")
        second = await ledger(rails, payment["channel"])
    assert [e["status"] for e in first if e["uetr"] == payment["uetr"]] == ["rejected"]
    settled = [e for e in second if e["uetr"] == payment["uetr"]]
    assert [e["status"] for e in settled] == ["settled"]
