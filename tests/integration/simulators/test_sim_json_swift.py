"""JSON rails (card, citybank) and the SWIFT MT103 rail over real HTTP."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest

from simulators import RailsHandle
from tests.integration.simulators.sim_messages import mt103, payment

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def pay(http: aiohttp.ClientSession, base: str, body: Any) -> dict[str, Any]:
    async with http.post(f"{base}/payments", json=body) as resp:
        assert resp.status == 200
        return dict(await resp.json())


@pytest.mark.parametrize(
    ("amount", "fee"), [("100.00", "1.00"), ("1000.00", "6.00"), ("20000.00", "50.00")]
)
async def test_card_percentage_fee_with_min_and_max(
    rails: RailsHandle, http: aiohttp.ClientSession, amount: str, fee: str
):
    base = rails.base_url("card")
    result = await pay(http, base, payment(f"CARD-{amount}", amount))
    assert (result["status"], result["reason"], result["fee"]) == ("settled", None, fee)


async def test_card_limits_daily_cap_and_inquiry(rails: RailsHandle, http: aiohttp.ClientSession):
    base = rails.base_url("card")
    assert (await pay(http, base, payment("CARD-BIG", "50000.01")))["reason"] == "AM02"
    # Fill the day up to 50.00 below the 5,000,000 cap through the API's own path.
    filler = [payment(f"CARD-F{i}", "50000.00") for i in range(99)]
    for body in filler:
        assert (await pay(http, base, body))["status"] == "settled"
    assert (await pay(http, base, payment("CARD-F99", "49950.00")))["status"] == "settled"
    assert (await pay(http, base, payment("CARD-CAP", "100.00")))["reason"] == "AM14"
    assert (await pay(http, base, payment("CARD-FITS", "50.00")))["status"] == "settled"
    async with http.get(f"{base}/payments/CARD-FITS") as resp:
        assert (await resp.json())["status"] == "settled"
    async with http.get(f"{base}/payments/CARD-CAP") as resp:
        assert (await resp.json())["status"] == "rejected"
    async with http.get(f"{base}/payments/NEVER") as resp:
        assert resp.status == 404


async def test_json_malformed_is_ff01_and_duplicates_answer_once(
    rails: RailsHandle, http: aiohttp.ClientSession
):
    base = rails.base_url("citybank")
    bad = await pay(http, base, payment("CB-J1", "12.3.4"))
    assert (bad["status"], bad["reason"]) == ("rejected", "FF01")
    async with http.post(f"{base}/payments", data=b"{nope") as resp:
        assert (await resp.json())["reason"] == "FF01"
    body = payment("CB-J1", "12.34")
    first = await pay(http, base, body)
    second = await pay(http, base, body)
    assert first == second
    assert first["fee"] == "1.00"
    assert len(rails.rail("citybank").ledger) == 1
    clash = await pay(http, base, payment("CB-J1", "99.00"))
    assert clash["reason"] == "DUPL"


async def test_citybank_json_after_hours_is_accepted_then_settles(
    rails: RailsHandle, http: aiohttp.ClientSession
):
    base = rails.base_url("citybank")
    rails.clock.set(datetime(2024, 1, 17, 10, 0, tzinfo=UTC))  # 18:00 Shanghai
    assert (await pay(http, base, payment("CB-LATE")))["status"] == "accepted"
    async with http.get(f"{base}/payments/CB-LATE") as resp:
        assert (await resp.json())["status"] == "accepted"
    async with http.post(f"{base}/_clock", json={"now": "2024-01-18T01:00:00+00:00"}) as resp:
        assert resp.status == 200
    async with http.get(f"{base}/payments/CB-LATE") as resp:
        assert (await resp.json())["status"] == "settled"


async def send_mt(http: aiohttp.ClientSession, base: str, text: str) -> str:
    async with http.post(
        f"{base}/mt103", data=text.encode(), headers={"Content-Type": "text/plain"}
    ) as resp:
        assert resp.status == 200
        return await resp.text()


def field79(mt199: str) -> list[str]:
    block4 = mt199.split("{4:", 1)[1]
    lines = block4.split("\r\n")
    start = next(i for i, ln in enumerate(lines) if ln.startswith(":79:"))
    return [lines[start][4:], *[ln for ln in lines[start + 1 :] if ln.startswith("//")]]


async def test_swift_mt103_settles_with_gpi_mt199(rails: RailsHandle, http: aiohttp.ClientSession):
    base = rails.base_url("swift")
    uetr = str(uuid.uuid4())
    answer = await send_mt(http, base, mt103("SW-1", uetr=uetr, amount="10000,00"))
    assert f"{{121:{uetr}}}" in answer
    assert ":21:SW-1" in answer
    f79 = field79(answer)
    assert f79[0] == "//2401170730+0000"
    assert f79[1] == "//ACSC"
    assert "//CHGS/USD30,00" in f79  # 25.00 + 0.05 % of 10000
    async with http.get(f"{base}/status/{uetr}") as resp:
        assert (await resp.json())["status"] == "settled"
    [entry] = rails.rail("swift").ledger
    assert (entry.reference, entry.end_to_end_id, str(entry.amount)) == (
        "SW-1",
        "E2E-SW-1",
        "10000.00",
    )


@pytest.mark.parametrize(
    "text",
    [
        mt103("SW-NO121", with_uetr=False),
        mt103("SW-BADAMT", amount="1000.00"),
        mt103("SW-NO71A", omit=("71A",)),
        mt103("SW-LONG", extra_block4=":72:/INS/" + "X" * 40 + "\r\n"),
        mt103("SW-CHARSET", extra_block4=":72:/INS/ÄÖÜ\r\n"),
        mt103("THIS-REF-IS-TOO-LONG"),
        mt103("SW-JPY", ccy="JPY", amount="100,50"),
        "{1:F01PAYGDEFFAXXX0000000000}{4:\r\n:20:X\r\n",
    ],
)
async def test_swift_mt_syntax_errors_are_rjct_ff01(
    rails: RailsHandle, http: aiohttp.ClientSession, text: str
):
    base = rails.base_url("swift")
    answer = await send_mt(http, base, text)
    assert field79(answer)[1] == "//RJCT/FF01"
    assert len(rails.rail("swift").ledger) == 0


async def test_swift_dedupes_on_uetr_and_reports_states(
    rails: RailsHandle, http: aiohttp.ClientSession
):
    base = rails.base_url("swift")
    uetr = str(uuid.uuid4())
    first = await send_mt(http, base, mt103("SW-D", uetr=uetr))
    again = await send_mt(http, base, mt103("SW-D", uetr=uetr))
    assert first == again
    assert len(rails.rail("swift").ledger) == 1
    rejected = str(uuid.uuid4())
    answer = await send_mt(http, base, mt103("SW-R", uetr=rejected, ccy="CHF"))
    assert field79(answer)[1] == "//RJCT/CURR"
    async with http.get(f"{base}/status/{rejected}") as resp:
        assert await resp.json() == {
            "uetr": rejected, "status": "rejected", "reason": "CURR", "reference": "SW-R",
            "iso_status": "RJCT", "fee": "0", "value_date": None,
        }  # fmt: skip
    async with http.get(f"{base}/status/{uuid.uuid4()}") as resp:
        assert resp.status == 404
    # Saturday: queued (received), settled at Monday 00:00 UTC.
    rails.clock.set(datetime(2024, 1, 20, 12, 0, tzinfo=UTC))
    weekend = str(uuid.uuid4())
    answer = await send_mt(http, base, mt103("SW-W", uetr=weekend))
    assert field79(answer)[1] == "//ACSP/G003"
    async with http.get(f"{base}/status/{weekend}") as resp:
        assert (await resp.json())["status"] == "received"
    rails.clock.set(datetime(2024, 1, 22, 0, 0, 1, tzinfo=UTC))
    async with http.get(f"{base}/status/{weekend}") as resp:
        body = await resp.json()
    assert (body["status"], body["value_date"]) == ("settled", "2024-01-22")
