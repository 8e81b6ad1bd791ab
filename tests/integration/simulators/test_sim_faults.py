"""Fault modes under a fixed seed: lost response, timeout, 5xx, outages, random rejects."""

from __future__ import annotations

from datetime import timedelta

import aiohttp
import pytest

from simulators import RailsHandle
from tests.integration.simulators.sim_messages import Tx, pacs008, pacs028, read_pacs002

pytestmark = pytest.mark.asyncio(loop_scope="session")

XML = {"Content-Type": "application/xml"}


async def control(http: aiohttp.ClientSession, base: str, patch: dict[str, object]) -> int:
    async with http.post(f"{base}/_control", json=patch) as resp:
        return resp.status


async def status_of(http: aiohttp.ClientSession, base: str, tx_id: str) -> tuple[int, str | None]:
    async with http.post(f"{base}/pacs028", data=pacs028(tx_id=tx_id), headers=XML) as resp:
        if resp.status != 200:
            return resp.status, None
        return 200, read_pacs002(await resp.read())[2][0].status


async def test_lost_response_settles_then_drops_connection(
    rails: RailsHandle, http: aiohttp.ClientSession
):
    base = rails.base_url("rtgs")
    assert await control(http, base, {"lost_response_rate": 1.0}) == 200
    with pytest.raises(aiohttp.ServerDisconnectedError):
        async with http.post(f"{base}/pacs008", data=pacs008([Tx("F-LOST")]), headers=XML):
            pass
    assert await status_of(http, base, "F-LOST") == (200, "ACSC")
    # The resend after inquiry is answered from the ledger (and is itself subject to faults).
    await control(http, base, {"lost_response_rate": 0.0})
    async with http.post(f"{base}/pacs008", data=pacs008([Tx("F-LOST")]), headers=XML) as r:
        assert read_pacs002(await r.read())[2][0].status == "ACSC"
    assert len(rails.rail("rtgs").ledger) == 1


async def test_timeout_holds_answer_but_settles(rails: RailsHandle, http: aiohttp.ClientSession):
    base = rails.base_url("instant")
    await control(http, base, {"timeout_rate": 1.0, "hold_ms": 5000})
    with pytest.raises(TimeoutError):
        async with http.post(
            f"{base}/pacs008",
            data=pacs008([Tx("F-SLOW")]),
            headers=XML,
            timeout=aiohttp.ClientTimeout(total=0.2),
        ):
            pass
    assert await status_of(http, base, "F-SLOW") == (200, "ACSC")


@pytest.mark.parametrize(("settle", "expected"), [(False, (404, None)), (True, (200, "ACSC"))])
async def test_5xx_with_and_without_settling(
    rails: RailsHandle, http: aiohttp.ClientSession, settle: bool, expected: tuple[int, str | None]
):
    base = rails.base_url("rtgs")
    await control(http, base, {"error_5xx_rate": 1.0, "settle_before_5xx": settle})
    async with http.post(f"{base}/pacs008", data=pacs008([Tx("F-5XX")]), headers=XML) as resp:
        assert resp.status == 500
    assert await status_of(http, base, "F-5XX") == expected


async def test_outage_windows_503_and_drop(rails: RailsHandle, http: aiohttp.ClientSession):
    base = rails.base_url("rtgs")
    now = rails.clock.now()
    window = {"start": now.isoformat(), "end": (now + timedelta(hours=1)).isoformat()}
    await control(http, base, {"outages": [{**window, "mode": "503"}]})
    async with http.post(f"{base}/pacs008", data=pacs008([Tx("F-OUT")]), headers=XML) as resp:
        assert resp.status == 503
    await control(http, base, {"outages": [{**window, "mode": "drop"}]})
    with pytest.raises(aiohttp.ServerDisconnectedError):
        async with http.post(f"{base}/pacs008", data=pacs008([Tx("F-OUT")]), headers=XML):
            pass
    rails.clock.advance(3601)  # window over
    async with http.post(f"{base}/pacs008", data=pacs008([Tx("F-OUT")]), headers=XML) as resp:
        assert read_pacs002(await resp.read())[2][0].status == "ACSC"


async def test_reject_rate_is_reproducible_under_a_seed(
    rails: RailsHandle, http: aiohttp.ClientSession
):
    base = rails.base_url("instant")
    patch = {"reject_rate": 0.5, "reject_reasons": {"AM04": 1, "AC04": 1}, "seed": 42}
    runs = []
    for run in range(2):
        await control(http, base, {"seed": 0})
        await control(http, base, patch)  # a seed change reseeds the dice
        txs = [Tx(f"R{run}-{i}") for i in range(40)]
        async with http.post(f"{base}/pacs008", data=pacs008(txs), headers=XML) as resp:
            runs.append([(s.status, s.reason) for s in read_pacs002(await resp.read())[2]])
    assert runs[0] == runs[1]
    reasons = {r for _, r in runs[0]}
    assert reasons == {None, "AM04", "AC04"}
    assert 8 <= sum(1 for s, _ in runs[0] if s == "RJCT") <= 32


async def test_control_rejects_nonsense(rails: RailsHandle, http: aiohttp.ClientSession):
    base = rails.base_url("card")
    assert await control(http, base, {"reject_rate": 2}) == 400
    assert await control(http, base, {"no_such_knob": 1}) == 400
    assert await control(http, base, {"latency": {"dist": "gamma"}}) == 400
    async with http.get(f"{base}/_profile") as resp:
        profile = await resp.json()
    assert profile["behaviour"]["reject_rate"] == 0.0
    assert profile["fees"] == {
        "fixed": "0",
        "fixed_by_currency": {},
        "percent": "0.6",
        "min": "1.00",
        "max": "50.00",
    }
