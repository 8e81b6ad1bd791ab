"""Golden messages in tests/data (written by this project): parse -> model -> build gives the
same message modulo formatting, and every MX built validates against its XSD."""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from pathlib import Path

from lxml import etree

from paygate.domain import PaymentOrder
from paygate.messages.camt import build_camt053, parse_camt053
from paygate.messages.mt.blocks import parse_mt_file
from paygate.messages.mt.mt103 import build_mt103, parse_mt103
from paygate.messages.mt.statement import build_mt940, parse_mt_statements
from paygate.messages.pacs002 import build_pacs002, parse_pacs002
from paygate.messages.pacs008 import build_pacs008, parse_pacs008
from paygate.messages.pain001 import Pain001Batch, build_pain001, read_pain001
from paygate.messages.xsd import read_iso, validate

DATA = Path(__file__).resolve().parents[2] / "data"


def _canonical_xml(data: bytes) -> bytes:
    parser = etree.XMLParser(remove_blank_text=True)
    return etree.tostring(etree.fromstring(data, parser), method="c14n")


def _header(data: bytes) -> tuple[str, dt.datetime]:
    iso = read_iso(data)
    hdr = iso.body[0]
    msg_id = hdr.findtext(f"{{{iso.namespace}}}MsgId")
    created = hdr.findtext(f"{{{iso.namespace}}}CreDtTm")
    assert msg_id and created
    return msg_id, dt.datetime.fromisoformat(created)


def _same_mt(a: str, b: str) -> bool:
    def norm(text: str) -> str:
        return text.replace("\r\n", "\n").strip()

    return norm(a) == norm(b)


def test_pacs008_golden() -> None:
    original = (DATA / "pacs008.xml").read_bytes()
    message = parse_pacs008(original)
    assert len(message.transactions) == 2
    first = message.transactions[0]
    rebuilt = build_pacs008(
        message.orders,
        msg_id=message.msg_id,
        created=message.created,
        tx_ids=[t.tx_id or "" for t in message.transactions],
        settlement_date=first.settlement_date or dt.date.min,
        instructing_agent_bic=first.instructing_agent_bic,
        instructed_agent_bic=first.instructed_agent_bic,
        settlement_method=message.settlement_method,
    )
    assert _canonical_xml(rebuilt) == _canonical_xml(original)
    validate(etree.fromstring(rebuilt))


def test_pacs002_golden() -> None:
    original = (DATA / "pacs002.xml").read_bytes()
    statuses = parse_pacs002(original)
    assert [s.status for s in statuses] == ["ACSC", "RJCT"]
    assert statuses[1].reason_code == "AC04"
    msg_id, created = _header(original)
    rebuilt = build_pacs002(
        statuses,
        msg_id=msg_id,
        created=created,
        original_msg_id=statuses[0].original_msg_id or "",
    )
    assert _canonical_xml(rebuilt) == _canonical_xml(original)


def test_camt053_golden() -> None:
    original = (DATA / "camt053.xml").read_bytes()
    statements = parse_camt053(original)
    assert len(statements) == 1 and len(statements[0].entries) == 2
    msg_id, created = _header(original)
    rebuilt = build_camt053(statements, msg_id=msg_id, created=created)
    assert _canonical_xml(rebuilt) == _canonical_xml(original)


def test_pain001_golden() -> None:
    original = (DATA / "pain001.xml").read_bytes()
    message = read_pain001(read_iso(original))
    assert [i.payment_info_id for i in message.items] == ["KO-PMT-A", "KO-PMT-A", "KO-PMT-B"]
    assert all(i.valid for i in message.items)
    batches: OrderedDict[str, list[PaymentOrder]] = OrderedDict()
    for item in message.items:
        assert item.order is not None
        batches.setdefault(item.payment_info_id, []).append(item.order)
    rebuilt = build_pain001(
        [Pain001Batch(pmt_id, orders) for pmt_id, orders in batches.items()],
        msg_id=message.msg_id,
        created=message.created,
        initiating_party=message.initiating_party,
        execution_date=dt.date(1999, 1, 1),  # every order carries its own date
    )
    assert _canonical_xml(rebuilt) == _canonical_xml(original)


def test_mt103_golden() -> None:
    original = (DATA / "mt103.fin").read_text()
    mt = parse_mt103(original)
    assert mt.sender_bic and mt.receiver_bic
    rebuilt = build_mt103(
        mt.order,
        sender_reference=mt.sender_reference,
        value_date=mt.value_date,
        sender_bic=mt.sender_bic,
        receiver_bic=mt.receiver_bic,
    )
    assert _same_mt(rebuilt, original)


def test_mt940_golden() -> None:
    original = (DATA / "mt940.fin").read_text()
    [statement] = parse_mt_statements(original)
    [message] = parse_mt_file(original)
    assert message.sender_bic and message.receiver_bic
    pages = build_mt940(statement, sender_bic=message.sender_bic, receiver_bic=message.receiver_bic)
    assert _same_mt("".join(pages), original)
