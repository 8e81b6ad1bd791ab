from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from paygate.domain import Account, Party, Priority
from paygate.errors import SchemaInvalid, UnsafeXml, UnsupportedMessage
from paygate.messages.mt.payments import split_mt_payments
from paygate.messages.pain001 import Pain001Batch, build_pain001, parse_pain001
from tests.unit.messages.msg_factories import CREATED, make_order

DATA = Path(__file__).resolve().parents[2] / "data"
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"}


def _file(*batches: Pain001Batch) -> bytes:
    return build_pain001(
        list(batches),
        msg_id="PAIN-1",
        created=CREATED,
        initiating_party=Party(name="Alpha Trading GmbH"),
        execution_date=dt.date(2024, 5, 7),
    )


def _two() -> bytes:
    return _file(
        Pain001Batch(
            "PMT-1",
            [
                make_order(),
                make_order(instruction_id=None, end_to_end_id="E2E-ONLY", priority=Priority.HIGH),
            ],
        )
    )


def test_items_take_debtor_from_pmtinf_and_identity_from_instrid_or_e2e() -> None:
    items = parse_pain001(_two())
    assert [i.instruction_id for i in items] == ["INSTR-1", "E2E-ONLY"]
    assert all(i.payment_info_id == "PMT-1" and not i.errors for i in items)
    order = items[1].order
    assert order is not None
    assert order.debtor.name == "Alpha Trading GmbH"
    assert order.debtor_account.iban == "DE89370400440532013000"
    assert order.creditor_account.iban == "FR1420041010050500013M02606"
    assert order.amount.value == Decimal("1234.50")
    assert order.requested_execution_date == dt.date(2024, 5, 7)
    assert order.priority is Priority.HIGH
    assert items[0].order == make_order(requested_execution_date=dt.date(2024, 5, 7))


def test_invalid_item_carries_xml_path_instead_of_raising() -> None:
    root = etree.fromstring(_two())
    root.xpath("//p:CdtTrfTxInf[2]/p:Amt/p:InstdAmt", namespaces=NS)[0].set("Ccy", "XQZ")
    items = parse_pain001(etree.tostring(root))
    assert items[0].valid and not items[1].valid
    [error] = items[1].errors
    assert error.pointer == "/Document/CstmrCdtTrfInitn/PmtInf[0]/CdtTrfTxInf[1]/Amt/InstdAmt"
    assert "XQZ" in error.reason or "currency" in error.reason.lower()


def test_debtor_error_is_reported_on_every_item_of_its_pmtinf() -> None:
    bad = _two().replace(b"DE89370400440532013000", b"DE89370400440532013001")
    items = parse_pain001(bad)
    assert all(not i.valid for i in items)
    assert items[0].errors[0].pointer.endswith("/PmtInf[0]/DbtrAcct")
    assert "iban" in items[0].errors[0].reason


def test_duplicate_instruction_ids_are_item_errors() -> None:
    data = _file(Pain001Batch("A", [make_order()]), Pain001Batch("B", [make_order()]))
    items = parse_pain001(data)
    assert items[0].valid and not items[1].valid
    assert "more than once" in items[1].errors[0].reason


def test_xsd_invalid_unsafe_and_foreign_files_raise() -> None:
    root = etree.fromstring(_two())
    pmt = root.xpath("//p:PmtInf", namespaces=NS)[0]
    pmt.remove(pmt.find("p:PmtMtd", NS))
    with pytest.raises(SchemaInvalid) as info:
        parse_pain001(etree.tostring(root))
    assert any("PmtInf" in e.pointer for e in info.value.errors)
    with pytest.raises(UnsafeXml):
        parse_pain001(b'<!DOCTYPE x [<!ENTITY a "b">]><Document/>')
    with pytest.raises(UnsupportedMessage):
        parse_pain001((DATA / "pacs008.xml").read_bytes())


def test_builder_refuses_mixed_debtors_in_one_batch() -> None:
    other = make_order(debtor_account=Account(iban="DE02120300000000202051"))
    with pytest.raises(SchemaInvalid):
        _file(Pain001Batch("PMT", [make_order(), other]))


MT101 = """{1:F01ACMEDEFFAXXX0000000000}{2:I101COBADEFFXXXXN}{4:
:20:BULK-2026-11
:28D:1/1
:50H:/DE89370400440532013000
ACME MANUFACTURING GMBH
:30:261125
:21:TX-0001
:32B:EUR1500,00
:57A:BYLADEM1001
:59:/DE02120300000000202051
NORDWIND LOGISTIK KG
:70:INVOICE 2026-0001
:71A:SHA
:21:TX-0002
:32B:EUR250,5
:59:/GB33BUKB20201555555555
HARBOUR SUPPLIES LTD
:71A:OUR
:21:TX-0003
:32B:EUR12
:59:/GB33BUKB20201555555555
HARBOUR SUPPLIES LTD
:71A:OUR
-}"""


def test_mt101_splits_into_one_item_per_sequence_b() -> None:
    items = split_mt_payments(MT101)
    assert [i.sender_reference for i in items] == ["TX-0001", "TX-0002", "TX-0003"]
    first, second, third = items
    assert first.order is not None and second.order is not None
    assert first.order.debtor_account.iban == "DE89370400440532013000"
    assert first.order.creditor_agent is not None
    assert first.order.creditor_agent.bic == "BYLADEM1001"
    assert first.order.requested_execution_date == dt.date(2026, 11, 25)
    assert second.order.amount.value == Decimal("250.50")
    assert second.order.charge_bearer.value == "DEBT"
    assert third.order is None and "decimal comma" in third.errors[0].reason


def test_mt103_file_items_and_a_broken_message() -> None:
    from paygate.messages.mt.mt103 import build_mt103

    good = build_mt103(
        make_order(),
        sender_reference="REF-1",
        value_date=dt.date(2024, 5, 6),
        sender_bic="COBADEFFXXX",
        receiver_bic="BNPAFRPPXXX",
    )
    broken = good.replace(":20:REF-1", ":20:REF-2").replace(":71A:SHA\r\n", "")
    items = split_mt_payments(good + "\n" + broken)
    assert [i.sender_reference for i in items] == ["REF-1", "REF-2"]
    assert items[0].valid and items[0].order is not None
    assert items[0].order.instruction_id == "REF-1"
    assert not items[1].valid and items[1].errors[0].pointer.startswith("line ")


def test_pain002_reports_each_item_and_validates() -> None:
    from paygate.messages.pain002 import ItemStatus, build_pain002

    items = parse_pain001(_two())
    statuses = [
        ItemStatus(i.payment_info_id, "ACCP", instruction_id=i.instruction_id) for i in items
    ]
    statuses[1] = ItemStatus(
        "PMT-1", "RJCT", instruction_id="E2E-ONLY", reason_code="AC01", reason_text="x" * 150
    )
    xml = build_pain002(statuses, msg_id="STS-1", created=CREATED, original_msg_id="PAIN-1")
    root = etree.fromstring(xml)
    ns = {"s": "urn:iso:std:iso:20022:tech:xsd:pain.002.001.12"}
    assert root.xpath("//s:TxSts/text()", namespaces=ns) == ["ACCP", "RJCT"]
    assert root.xpath("//s:OrgnlPmtInfId/text()", namespaces=ns) == ["PMT-1"]
    assert len(root.xpath("//s:AddtlInf", namespaces=ns)) == 2
    with pytest.raises(SchemaInvalid):
        build_pain002(
            [ItemStatus("P", "NOPE-TOO-LONG")], msg_id="S", created=CREATED, original_msg_id="O"
        )
