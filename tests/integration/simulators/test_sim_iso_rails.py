"""ISO 20022 rails (rtgs, batch, instant, cips, citybank) over real HTTP."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import aiohttp
import pytest
from aiohttp import web

from simulators import RailsHandle
from simulators.rail import Instruction
from tests.integration.simulators.sim_messages import Tx, lei, pacs008, pacs028, read_pacs002

pytestmark = pytest.mark.asyncio(loop_scope="session")

XML = {"Content-Type": "application/xml"}


async def post(
    http: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    async with http.post(url, data=body, headers={**XML, **(headers or {})}) as resp:
        return resp.status, await resp.read()


async def ledger(http: aiohttp.ClientSession, base: str) -> list[dict[str, object]]:
    async with http.get(f"{base}/_ledger") as resp:
        return list(await resp.json())


async def inquire(http: aiohttp.ClientSession, base: str, tx_id: str) -> tuple[int, bytes]:
    return await post(http, f"{base}/pacs028", pacs028(tx_id=tx_id))


async def test_rtgs_valid_payment_settles_with_fee(rails: RailsHandle, http: aiohttp.ClientSession):
    base = rails.base_url("rtgs")
    tx = Tx("RT-1", amount="1234.56", ccy="EUR")
    status, body = await post(http, f"{base}/pacs008", pacs008([tx]))
    assert status == 200
    grp, _, sts = read_pacs002(body)
    assert grp is None
    assert [(s.tx_id, s.e2e, s.uetr, s.status) for s in sts] == [
        ("RT-1", "E2E-RT-1", tx.uetr, "ACSC")
    ]
    assert sts[0].fee == Decimal("2.50")
    [entry] = await ledger(http, base)
    assert entry["status"] == "settled"
    assert entry["amount"] == "1234.56"
    assert entry["fee"] == "2.50"
    assert entry["value_date"] == "2024-01-17"


async def test_rtgs_cny_fee_is_15(rails: RailsHandle, http: aiohttp.ClientSession):
    base = rails.base_url("rtgs")
    _, body = await post(http, f"{base}/pacs008", pacs008([Tx("RT-CNY", ccy="CNY")]))
    assert read_pacs002(body)[2][0].fee == Decimal("15.00")


async def test_xsd_invalid_message_is_group_rejected_ff01_and_not_booked(
    rails: RailsHandle, http: aiohttp.ClientSession
):
    base = rails.base_url("rtgs")
    bad = pacs008([Tx("RT-BAD")]).replace(b"<ChrgBr>SLEV</ChrgBr>", b"<ChrgBr>XXXX</ChrgBr>")
    status, body = await post(http, f"{base}/pacs008", bad)
    assert status == 200
    grp, reason, sts = read_pacs002(body)
    assert (grp, reason) == ("RJCT", "FF01")
    assert [(s.tx_id, s.status, s.reason) for s in sts] == [("RT-BAD", "RJCT", "FF01")]
    assert await ledger(http, base) == []
    status, _ = await inquire(http, base, "RT-BAD")
    assert status == 404


async def test_not_xml_and_wrong_nboftxs_are_ff01(rails: RailsHandle, http: aiohttp.ClientSession):
    base = rails.base_url("instant")
    for body in (b"not xml at all", pacs008([Tx("I-N")], nb_of_txs=2)):
        _, resp = await post(http, f"{base}/pacs008", body)
        assert read_pacs002(resp)[:2] == ("RJCT", "FF01")


async def test_entity_expansion_is_not_resolved(rails: RailsHandle, http: aiohttp.ClientSession):
    base = rails.base_url("rtgs")
    evil = b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>'
    _, resp = await post(http, f"{base}/pacs008", evil)
    assert read_pacs002(resp)[:2] == ("RJCT", "FF01")
    assert b"root:" not in resp


async def test_apphdr_envelope_is_accepted(rails: RailsHandle, http: aiohttp.ClientSession):
    base = rails.base_url("rtgs")
    doc = pacs008([Tx("RT-ENV")]).split(b"?>", 1)[1]
    hdr = (
        b'<AppHdr xmlns="urn:iso:std:iso:20022:tech:xsd:head.001.001.02">'
        b"<BizMsgIdr>M</BizMsgIdr></AppHdr>"
    )
    _, resp = await post(http, f"{base}/pacs008", b"<Envelope>" + hdr + doc + b"</Envelope>")
    assert read_pacs002(resp)[2][0].status == "ACSC"


async def test_duplicate_returns_original_result_and_books_once(
    rails: RailsHandle, http: aiohttp.ClientSession
):
    base = rails.base_url("rtgs")
    msg = pacs008([Tx("RT-DUP", uetr="6f1b6c1e-1d2b-4c3d-8e4f-5a6b7c8d9e0f")])
    first = read_pacs002((await post(http, f"{base}/pacs008", msg))[1])[2]
    second = read_pacs002((await post(http, f"{base}/pacs008", msg))[1])[2]
    assert first == second
    assert len(await ledger(http, base)) == 1
    # Same TxId, different amount: a clash, rejected DUPL, the original stays untouched.
    clash = pacs008([Tx("RT-DUP", amount="999.00")])
    sts = read_pacs002((await post(http, f"{base}/pacs008", clash))[1])[2]
    assert (sts[0].status, sts[0].reason) == ("RJCT", "DUPL")
    [entry] = await ledger(http, base)
    assert (entry["amount"], entry["status"]) == ("100.00", "settled")


async def test_inquiry_settled_rejected_received_and_unknown(
    rails: RailsHandle, http: aiohttp.ClientSession
):
    base = rails.base_url("rtgs")
    await post(http, f"{base}/pacs008", pacs008([Tx("RT-OK"), Tx("RT-NO", ccy="GBP")]))
    _, body = await inquire(http, base, "RT-OK")
    assert read_pacs002(body)[2][0].status == "ACSC"
    _, body = await inquire(http, base, "RT-NO")
    assert (read_pacs002(body)[2][0].status, read_pacs002(body)[2][0].reason) == ("RJCT", "CURR")
    # Still being processed (registered, not yet decided): RCVD.
    rail = rails.rail("rtgs")
    rail.register(
        [Instruction("RT-RCVD", "E2E", None, Decimal("5"), "EUR", "DEBTOR01", "CRED01", "X")]
    )
    _, body = await inquire(http, base, "RT-RCVD")
    assert read_pacs002(body)[2][0].status == "RCVD"
    status, body = await inquire(http, base, "RT-NEVER")
    assert status == 404
    # Lookup by UETR works too.
    tx = Tx("RT-U")
    await post(http, f"{base}/pacs008", pacs008([tx]))
    _, body = await post(http, f"{base}/pacs028", pacs028(uetr=tx.uetr))
    assert read_pacs002(body)[2][0].tx_id == "RT-U"


async def test_rtgs_rejects_after_cutoff_and_on_holidays(
    rails: RailsHandle, http: aiohttp.ClientSession
):
    base = rails.base_url("rtgs")
    rails.clock.set(datetime(2024, 1, 17, 16, 1, tzinfo=UTC))  # 17:01 Berlin, after cut-off
    _, body = await post(http, f"{base}/pacs008", pacs008([Tx("RT-LATE")]))
    assert (read_pacs002(body)[2][0].status, read_pacs002(body)[2][0].reason) == ("RJCT", "CUTA")
    rails.clock.set(datetime(2024, 1, 17, 15, 59, tzinfo=UTC))  # 16:59: still open
    _, body = await post(http, f"{base}/pacs008", pacs008([Tx("RT-ONTIME")]))
    assert read_pacs002(body)[2][0].status == "ACSC"
    rails.clock.set(datetime(2024, 12, 25, 10, 0, tzinfo=UTC))  # Christmas (a Wednesday)
    _, body = await post(http, f"{base}/pacs008", pacs008([Tx("RT-XMAS")]))
    assert read_pacs002(body)[2][0].reason == "CUTA"


async def test_instant_cap_and_liquidity(rails: RailsHandle, http: aiohttp.ClientSession):
    base = rails.base_url("instant")
    rails.clock.set(datetime(2024, 1, 20, 23, 0, tzinfo=UTC))  # Saturday night: 7x24
    msg = pacs008([Tx("I-1", amount="100000.00"), Tx("I-2", amount="100000.01")])
    sts = read_pacs002((await post(http, f"{base}/pacs008", msg))[1])[2]
    assert [(s.status, s.reason) for s in sts] == [("ACSC", None), ("RJCT", "AM02")]
    rails.rail("instant").available["EUR"] = Decimal("50.00")
    sts = read_pacs002((await post(http, f"{base}/pacs008", pacs008([Tx("I-3")])))[1])[2]
    assert (sts[0].status, sts[0].reason) == ("RJCT", "AM04")


async def test_cips_requires_cny_and_leis(rails: RailsHandle, http: aiohttp.ClientSession):
    base = rails.base_url("cips")
    good = Tx("C-1", "10000.00", "CNY", debtor_lei=lei("PAYGATE"), creditor_lei=lei("BENEF"))
    no_lei = Tx("C-2", "10000.00", "CNY", debtor_lei=lei("PAYGATE"))
    eur = Tx("C-3", "10.00", "EUR", debtor_lei=lei("PAYGATE"), creditor_lei=lei("BENEF"))
    bad_check = Tx("C-4", "10.00", "CNY", debtor_lei="PAYGATE0000000000099", creditor_lei=lei("B"))
    sts = read_pacs002(
        (await post(http, f"{base}/pacs008", pacs008([good, no_lei, eur, bad_check])))[1]
    )[2]
    assert [(s.status, s.reason) for s in sts] == [
        ("ACSC", None),
        ("RJCT", "BE17"),
        ("RJCT", "CURR"),
        ("RJCT", "BE16"),
    ]
    assert sts[0].fee == Decimal("21.00")  # 20.00 + 0.01 % of 10000


async def test_citybank_queues_after_hours_and_settles_next_business_day(
    rails: RailsHandle, http: aiohttp.ClientSession
):
    base = rails.base_url("citybank")
    rails.clock.set(datetime(2024, 1, 19, 10, 0, tzinfo=UTC))  # Friday 18:00 Shanghai
    msg = pacs008([Tx("CB-1", amount="500.00", ccy="CNY")])
    sts = read_pacs002((await post(http, f"{base}/pacs008", msg))[1])[2]
    assert sts[0].status == "ACSP"
    rails.clock.set(datetime(2024, 1, 21, 12, 0, tzinfo=UTC))  # Sunday: still pending
    assert read_pacs002((await inquire(http, base, "CB-1"))[1])[2][0].status == "ACSP"
    rails.clock.set(datetime(2024, 1, 22, 1, 0, tzinfo=UTC))  # Monday 09:00 Shanghai
    assert read_pacs002((await inquire(http, base, "CB-1"))[1])[2][0].status == "ACSC"
    [entry] = await ledger(http, base)
    assert entry["value_date"] == "2024-01-22"
    assert entry["booked_at"] == "2024-01-22T01:00:00+00:00"


async def test_batch_accepts_many_settles_at_cycle_and_calls_back(
    rails: RailsHandle, http: aiohttp.ClientSession
):
    received: list[bytes] = []
    got = asyncio.Event()

    async def callback(request: web.Request) -> web.Response:
        received.append(await request.read())
        got.set()
        return web.Response()

    app = web.Application()
    app.router.add_post("/cb", callback)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    cb_url = f"http://127.0.0.1:{runner.addresses[0][1]}/cb"
    try:
        base = rails.base_url("batch")
        txs = [Tx(f"B-{i}", amount=f"{i}.00") for i in range(1, 6)] + [Tx("B-BIG", "50000.01")]
        _, body = await post(
            http, f"{base}/pacs008", pacs008(txs, msg_id="BATCH-1"), {"X-Callback-Url": cb_url}
        )
        sts = read_pacs002(body)[2]
        assert [s.status for s in sts] == ["ACSP"] * 5 + ["RJCT"]
        assert sts[-1].reason == "AM02"
        entries = await ledger(http, base)
        assert {e["status"] for e in entries[:5]} == {"received"}
        assert {e["batch_id"] for e in entries[:5]} == {"BATCH-1"}
        assert read_pacs002((await inquire(http, base, "B-1"))[1])[2][0].status == "ACSP"
        # Cycles every 30 sim-minutes (batch hours are UTC): 07:30 -> next cycle 08:00.
        async with http.post(f"{base}/_clock", json={"advance_seconds": 1800}) as resp:
            assert resp.status == 200
        await asyncio.wait_for(got.wait(), timeout=5)
        _, _, cb = read_pacs002(received[0])
        assert sorted(s.tx_id or "" for s in cb) == [f"B-{i}" for i in range(1, 6)]
        assert {s.status for s in cb} == {"ACSC"}
        entries = await ledger(http, base)
        assert {e["booked_at"] for e in entries[:5]} == {"2024-01-17T08:00:00+00:00"}
        assert read_pacs002((await inquire(http, base, "B-3"))[1])[2][0].status == "ACSC"
    finally:
        await runner.cleanup()


async def test_batch_duplicate_callback(rails: RailsHandle, http: aiohttp.ClientSession):
    received: list[bytes] = []
    two = asyncio.Event()

    async def callback(request: web.Request) -> web.Response:
        received.append(await request.read())
        if len(received) == 2:
            two.set()
        return web.Response()

    app = web.Application()
    app.router.add_post("/cb", callback)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        base = rails.base_url("batch")
        async with http.post(f"{base}/_control", json={"duplicate_callback_rate": 1.0}) as r:
            assert r.status == 200
        cb = f"http://127.0.0.1:{runner.addresses[0][1]}/cb"
        await post(http, f"{base}/pacs008", pacs008([Tx("BD-1")]), {"X-Callback-Url": cb})
        rails.clock.advance(timedelta(minutes=30).total_seconds())
        await asyncio.wait_for(two.wait(), timeout=5)
        assert read_pacs002(received[0])[2] == read_pacs002(received[1])[2]
    finally:
        await runner.cleanup()
