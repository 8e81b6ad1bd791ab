"""Payment-file intake over real HTTP against a real PostgreSQL: split, strict, idempotent."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

from lxml import etree

from paygate.domain import Account, Agent, Money, Party, PaymentOrder, Remittance
from paygate.messages.mt.mt103 import build_mt103
from paygate.messages.pain001 import Pain001Batch, build_pain001
from tests.integration.gateway.harness import Gateway, running_gateway, settings_for

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"}
CREATED = dt.datetime(2026, 11, 24, 8, 0, tzinfo=dt.UTC)
CREDITORS = [
    ("Nordwind Logistik KG", "DE02120300000000202051", "BYLADEM1001"),
    ("Harbour Supplies Ltd", "GB33BUKB20201555555555", "BUKBGB22"),
    ("Atelier Lumiere SARL", "FR1420041010050500013M02606", "BNPAFRPP"),
]


def _order(n: int) -> PaymentOrder:
    name, iban, bic = CREDITORS[n]
    return PaymentOrder(
        amount=Money(currency="EUR", value=Decimal("100.00") + n),
        debtor=Party(name="Acme Manufacturing GmbH"),
        debtor_account=Account(iban="DE89370400440532013000"),
        debtor_agent=Agent(bic="COBADEFF"),
        creditor=Party(name=name),
        creditor_account=Account(iban=iban),
        creditor_agent=Agent(bic=bic),
        end_to_end_id=f"E2E-FILE-{n}",
        instruction_id=f"PF-INSTR-{n}",
        uetr=uuid.uuid4(),
        remittance=Remittance(unstructured=f"Invoice 2026-{n:04d}"),
    )


def pain001(*, break_item: int | None = None) -> bytes:
    data = build_pain001(
        [Pain001Batch("PMTINF-1", [_order(n) for n in range(3)])],
        msg_id="FILE-MSG-1",
        created=CREATED,
        initiating_party=Party(name="Acme Manufacturing GmbH"),
        execution_date=dt.date(2026, 11, 25),
    )
    if break_item is None:
        return data
    root = etree.fromstring(data)
    iban = root.xpath("//p:CdtTrfTxInf/p:CdtrAcct/p:Id/p:IBAN", namespaces=NS)[break_item]
    iban.text = iban.text[:-1] + ("0" if iban.text[-1] != "0" else "1")  # checksum breaks
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def mt103_file() -> str:
    messages = [
        build_mt103(
            _order(n),
            sender_reference=f"MTREF-{n}",
            value_date=dt.date(2026, 11, 25),
            sender_bic="COBADEFFXXX",
            receiver_bic="BNPAFRPPXXX",
        )
        for n in range(2)
    ]
    return "\r\n".join(messages)


async def _post(
    gw: Gateway, body: bytes | str, content_type: str, key: str, query: str = ""
) -> tuple[int, dict[str, Any], str]:
    headers = gw.headers(key)
    headers["Content-Type"] = content_type
    async with gw.session.post(
        f"{gw.url}/v1/payment-files{query}", data=body, headers=headers
    ) as r:
        return r.status, await r.json(content_type=None), r.content_type


async def _count(gw: Gateway) -> int:
    return int(await gw.pool.fetchval("SELECT count(*) FROM payments"))


async def test_pain001_file_splits_and_replays(fresh_dsn: str, tmp_path: Path) -> None:
    async with running_gateway(settings_for(fresh_dsn, tmp_path), run_workers=False) as gw:
        data = pain001()
        status, first, _ = await _post(gw, data, "application/xml", "file-1")
        assert status == 202, first
        assert [i["instruction_id"] for i in first["items"]] == [f"PF-INSTR-{n}" for n in range(3)]
        assert all(i["status"] == "validated" and not i["errors"] for i in first["items"])
        assert await _count(gw) == 3
        rows = await gw.pool.fetch("SELECT amount, idempotency_key FROM payments ORDER BY amount")
        assert [r["amount"] for r in rows] == [
            Decimal("100.00"),
            Decimal("101.00"),
            Decimal("102.00"),
        ]
        assert rows[0]["idempotency_key"] == "file-1:PF-INSTR-0"
        # The same file again: same payment ids, no new rows.
        status, again, _ = await _post(gw, data, "application/xml", "file-1")
        assert status == 202
        assert again["file_id"] == first["file_id"]
        assert [i["payment_id"] for i in again["items"]] == [
            i["payment_id"] for i in first["items"]
        ]
        assert await _count(gw) == 3


async def test_invalid_item_rejects_the_whole_file_unless_partial(
    fresh_dsn: str, tmp_path: Path
) -> None:
    async with running_gateway(settings_for(fresh_dsn, tmp_path), run_workers=False) as gw:
        data = pain001(break_item=1)
        status, body, ctype = await _post(gw, data, "application/xml", "file-2")
        assert status == 422
        assert ctype == "application/problem+json"
        assert body["type"].endswith("/file-invalid")
        pointers = [e["pointer"] for e in body["errors"]]
        assert pointers and all(p.startswith("/items/1/") for p in pointers)
        assert "CdtTrfTxInf[1]/CdtrAcct" in pointers[0]
        assert await _count(gw) == 0

        status, body, _ = await _post(gw, data, "application/xml", "file-2", "?partial=true")
        assert status == 202
        assert [i["payment_id"] is not None for i in body["items"]] == [True, False, True]
        assert body["items"][1]["status"] == "rejected"
        assert body["items"][1]["errors"][0]["pointer"].startswith("/items/1/")
        assert await _count(gw) == 2


async def test_mt103_file_with_two_messages(fresh_dsn: str, tmp_path: Path) -> None:
    async with running_gateway(settings_for(fresh_dsn, tmp_path), run_workers=False) as gw:
        status, body, _ = await _post(gw, mt103_file(), "application/x-swift-mt", "mt-1")
        assert status == 202, body
        assert [i["instruction_id"] for i in body["items"]] == ["MTREF-0", "MTREF-1"]
        assert await _count(gw) == 2
        status, again, _ = await _post(gw, mt103_file(), "text/plain", "mt-1")
        assert status == 202
        assert [i["payment_id"] for i in again["items"]] == [i["payment_id"] for i in body["items"]]
        assert await _count(gw) == 2


async def test_unsafe_or_unsupported_files_are_refused(fresh_dsn: str, tmp_path: Path) -> None:
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09">&x;</Document>'
    )
    async with running_gateway(settings_for(fresh_dsn, tmp_path), run_workers=False) as gw:
        status, body, ctype = await _post(gw, xxe, "application/xml", "bad-1")
        assert 400 <= status < 500
        assert ctype == "application/problem+json"
        assert "DOCTYPE" in body["detail"]
        status, body, ctype = await _post(gw, pain001(), "application/json", "bad-2")
        assert status == 415
        assert ctype == "application/problem+json"
        headers = gw.headers()
        headers["Content-Type"] = "application/xml"
        async with gw.session.post(
            f"{gw.url}/v1/payment-files", data=pain001(), headers=headers
        ) as r:
            assert r.status == 422  # no Idempotency-Key
        assert await _count(gw) == 0
