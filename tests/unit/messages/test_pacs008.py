from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from lxml import etree

from paygate.domain import Agent, Money, Priority
from paygate.errors import SchemaInvalid
from paygate.messages.pacs008 import build_pacs008, parse_pacs008
from paygate.messages.xsd import read_iso, validate
from tests.unit.messages.msg_factories import CREATED, make_order

SETTLE = dt.date(2024, 5, 6)


def test_single_transaction_round_trip(order) -> None:
    xml = build_pacs008(
        [order],
        msg_id="MSG-1",
        created=CREATED,
        tx_ids=["TX-1"],
        settlement_date=SETTLE,
        instructing_agent_bic="COBADEFFXXX",
        instructed_agent_bic="BNPAFRPPXXX",
    )
    message = parse_pacs008(xml)
    assert message.msg_id == "MSG-1"
    assert message.created == CREATED
    assert message.settlement_method == "CLRG"
    [tx] = message.transactions
    assert tx.tx_id == "TX-1"
    assert tx.settlement_date == SETTLE
    assert tx.instructing_agent_bic == "COBADEFFXXX"
    assert tx.order == order


def test_many_transactions_keep_their_own_tx_id_and_uetr() -> None:
    orders = [
        make_order(
            end_to_end_id=f"E2E-{i}",
            uetr=uuid.uuid4(),
            amount=Money(currency="JPY", value=Decimal(1000 + i)),
        )
        for i in range(3)
    ]
    xml = build_pacs008(
        orders, msg_id="M", created=CREATED, tx_ids=["A", "B", "C"], settlement_date=SETTLE
    )
    parsed = parse_pacs008(xml)
    assert [t.tx_id for t in parsed.transactions] == ["A", "B", "C"]
    assert [t.order.uetr for t in parsed.transactions] == [o.uetr for o in orders]
    assert b"<NbOfTxs>3</NbOfTxs>" in xml
    assert b'Ccy="JPY">1000<' in xml


def test_built_message_is_xsd_valid_and_fields_are_in_schema_order(order) -> None:
    rich = order.model_copy(
        update={
            "priority": Priority.URGENT,
            "purpose": "SUPP",
            "intermediary_agents": [Agent(clearing_system="USABA", member_id="026009593")],
        }
    )
    xml = build_pacs008([rich], msg_id="M", created=CREATED, tx_ids=["T"], settlement_date=SETTLE)
    validate(read_iso(xml))
    assert parse_pacs008(xml).transactions[0].order == rich


def test_missing_agents_fall_back_to_the_adjacent_hop_or_fail(order) -> None:
    bare = order.model_copy(update={"debtor_agent": None})
    with pytest.raises(SchemaInvalid, match="no debtor agent"):
        build_pacs008([bare], msg_id="M", created=CREATED, tx_ids=["T"], settlement_date=SETTLE)
    xml = build_pacs008(
        [bare],
        msg_id="M",
        created=CREATED,
        tx_ids=["T"],
        settlement_date=SETTLE,
        instructing_agent_bic="DEUTDEFFXXX",
    )
    assert parse_pacs008(xml).transactions[0].order.debtor_agent == Agent(bic="DEUTDEFFXXX")


def test_tx_ids_must_match_orders(order) -> None:
    with pytest.raises(SchemaInvalid, match="TxId"):
        build_pacs008([order], msg_id="M", created=CREATED, tx_ids=[], settlement_date=SETTLE)


def test_xsd_violation_reports_a_path(order) -> None:
    xml = build_pacs008([order], msg_id="M", created=CREATED, tx_ids=["T"], settlement_date=SETTLE)
    root = etree.fromstring(xml)
    ns = {"p": root.nsmap[None]}
    msg_id = root.find("p:FIToFICstmrCdtTrf/p:GrpHdr/p:MsgId", ns)
    msg_id.text = "X" * 40  # Max35Text
    with pytest.raises(SchemaInvalid) as info:
        validate(root)
    assert info.value.errors[0].pointer.endswith("GrpHdr/MsgId")


def test_wrapped_and_prefixed_documents_parse(order) -> None:
    xml = build_pacs008([order], msg_id="M", created=CREATED, tx_ids=["T"], settlement_date=SETTLE)
    body = xml.split(b"?>", 1)[1].replace(b"<Document xmlns=", b"<p:Document xmlns:p=")
    body = body.replace(b"<", b"<p:").replace(b"<p:/", b"</p:").replace(b"<p:p:", b"<p:")
    body = body.replace(b"</p:p:", b"</p:")
    wrapped = (
        b'<Envelope xmlns="urn:swift:xsd:envelope"><AppHdr xmlns="urn:iso:std:iso:20022:'
        b'tech:xsd:head.001.001.02"><BizMsgIdr>M</BizMsgIdr></AppHdr>' + body + b"</Envelope>"
    )
    iso = read_iso(wrapped)
    assert iso.app_hdr is not None
    assert iso.message_id == "pacs.008.001.08"
    assert parse_pacs008(wrapped).transactions[0].order == order
