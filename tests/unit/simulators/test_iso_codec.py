"""The simulators' own ISO 20022 codec: pacs.008 in (as the gateway writes it), pacs.002 out."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import uuid
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from paygate.domain import Account, Agent, Money, Party, PaymentOrder
from paygate.messages.pacs008 import build_pacs008
from simulators import iso_codec
from simulators.iso_codec import (
    PACS002_NS,
    IsoFormatError,
    TxStatus,
    build_pacs002,
    parse_pacs008,
)

NOW = dt.datetime(2024, 5, 6, 10, 0, 7, 123456, tzinfo=dt.UTC)
IBANS = ["DE89370400440532013000", "FR1420041010050500013M02606", "GB29NWBK60161331926819"]
S = {"s": PACS002_NS}
HDR = (
    b'<AppHdr xmlns="urn:iso:std:iso:20022:tech:xsd:head.001.001.02">'
    b"<BizMsgIdr>M</BizMsgIdr></AppHdr>"
)

# Any text XML 1.0 can carry, with the characters that need escaping made likely.
xml_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Cn"))
    | st.sampled_from("&<>\"' \t\r\n]"),
    max_size=40,
)
opt_text = st.none() | xml_text


def _lei(base: str) -> str:
    digits = "".join(str(int(c, 36)) for c in base + "00")
    return f"{base}{98 - int(digits) % 97:02d}"


leis = st.none() | st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=18, max_size=18).map(
    _lei
)
accounts = st.sampled_from(IBANS).map(lambda i: Account(iban=i)) | st.from_regex(
    r"[A-Z0-9]{1,34}", fullmatch=True
).map(lambda o: Account(other=o))
names = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Cn")) | st.just("&"),
    min_size=1,
    max_size=40,
).filter(str.strip)
refs = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9 \-]{0,33}[A-Za-z0-9]", fullmatch=True)


@st.composite
def orders(draw: st.DrawFn) -> PaymentOrder:
    ccy = draw(st.sampled_from(["EUR", "USD", "JPY"]))
    cents = draw(st.integers(1, 10**9))
    value = Decimal(cents) if ccy == "JPY" else Decimal(cents) / 100
    return PaymentOrder(
        amount=Money(currency=ccy, value=value),
        debtor=Party(name=draw(names), lei=draw(leis)),
        debtor_account=draw(accounts),
        debtor_agent=Agent(bic="COBADEFFXXX"),
        creditor=Party(name=draw(names), lei=draw(leis)),
        creditor_account=draw(accounts),
        creditor_agent=Agent(bic="BNPAFRPPXXX"),
        end_to_end_id=draw(refs),
        instruction_id=draw(st.none() | refs),
        uetr=uuid.UUID(int=draw(st.integers(0, 2**128 - 1)), version=4),
    )


def _pacs008(orders: list[PaymentOrder], tx_ids: list[str] | None = None) -> bytes:
    return build_pacs008(
        orders,
        msg_id="MSG1",
        created=NOW,
        tx_ids=tx_ids or [f"TX{i}" for i in range(len(orders))],
        settlement_date=NOW.date(),
        instructing_agent_bic="PAYGDEFFXXX",
    )


def _one(**changes: object) -> PaymentOrder:
    order = PaymentOrder(
        amount=Money(currency="EUR", value=Decimal("12.50")),
        debtor=Party(name="Alpha GmbH"),
        debtor_account=Account(iban=IBANS[0]),
        debtor_agent=Agent(bic="COBADEFFXXX"),
        creditor=Party(name="Beta SARL"),
        creditor_account=Account(iban=IBANS[1]),
        creditor_agent=Agent(bic="BNPAFRPPXXX"),
        end_to_end_id="E2E-1",
    )
    return order.model_copy(update=changes)


@settings(max_examples=50, deadline=None)
@given(st.lists(orders(), min_size=1, max_size=6))
def test_parse_reads_back_what_the_gateway_writes(batch: list[PaymentOrder]) -> None:
    tx_ids = [f"REF-{i}" for i in range(len(batch))]
    msg = parse_pacs008(_pacs008(batch, tx_ids))
    assert msg.msg_id == "MSG1"
    assert len(msg.transactions) == len(batch)
    for order, tx_id, ins in zip(batch, tx_ids, msg.transactions, strict=True):
        assert ins.reference == tx_id
        assert ins.end_to_end_id == order.end_to_end_id
        assert ins.uetr == str(order.uetr)
        assert ins.instr_id == order.instruction_id
        assert (ins.amount, ins.currency) == (order.amount.value, order.amount.currency)
        assert ins.debtor_account == order.debtor_account.identifier
        assert ins.creditor_account == order.creditor_account.identifier
        assert ins.creditor_name == order.creditor.name.strip()
        assert (ins.debtor_lei, ins.creditor_lei) == (order.debtor.lei, order.creditor.lei)


def test_values_are_stripped_and_optional_elements_read_as_none() -> None:
    body = _pacs008([_one(creditor_account=Account(other="ACC-1"))], ["T1"])
    body = body.replace(b"<TxId>T1</TxId>", b"<TxId>\n  T1\t</TxId>")
    body = body.replace(b"<Nm>Beta SARL</Nm>", b"<Nm>  Beta SARL </Nm>")
    body = body.replace(b">12.50<", b"> 12.50\n<")
    body = re.sub(rb"<UETR>[^<]*</UETR>", b"", body)
    (ins,) = parse_pacs008(body).transactions
    assert (ins.reference, ins.creditor_name, ins.amount) == ("T1", "Beta SARL", Decimal("12.50"))
    assert ins.creditor_account == "ACC-1"  # Othr/Id when there is no IBAN
    assert ins.debtor_account == IBANS[0]
    assert ins.uetr is None and ins.instr_id is None
    assert ins.debtor_lei is None and ins.creditor_lei is None


def test_envelope_and_prefixed_documents_read_like_the_bare_document() -> None:
    body = _pacs008([_one(), _one(end_to_end_id="E2E-2", instruction_id="I2")])
    bare = parse_pacs008(body)
    doc = body.split(b"?>", 1)[1].strip()
    prefixed = re.sub(rb"<(/?)([A-Za-z])", rb"<\1p:\2", doc).replace(b" xmlns=", b" xmlns:p=")
    for wrapped in (
        b"<Envelope>" + HDR + doc + b"</Envelope>",
        b'<Envelope xmlns="urn:swift:xsd:envelope">' + HDR + doc + b"</Envelope>",
        b'<h:Env xmlns:h="urn:env">' + HDR + b"<h:Body>" + prefixed + b"</h:Body></h:Env>",
    ):
        assert parse_pacs008(wrapped) == bare
    assert [t.instr_id for t in bare.transactions] == [None, "I2"]


TWO = _pacs008([_one(), _one(end_to_end_id="E2E-2")], ["T1", "T2"])


@pytest.mark.parametrize(
    ("body", "detail", "msg_id", "tx_ids"),
    [
        (b"not xml", "not well-formed XML: ", None, []),
        (b"<a><b/></a>", "no ISO 20022 Document element", None, []),
        (
            TWO.replace(b"pacs.008.001.08", b"pacs.008.001.07"),
            "expected a pacs.008.001.08 Document, got namespace "
            "'urn:iso:std:iso:20022:tech:xsd:pacs.008.001.07'",
            None,
            [],
        ),
        (TWO.replace(b"<ChrgBr>SHAR</ChrgBr>", b"", 1), "XSD: line ", "MSG1", ["T1", "T2"]),
        (TWO.replace(b">12.50<", b">12,50<", 1), "XSD: line ", "MSG1", ["T1", "T2"]),
        (
            TWO.replace(b"<NbOfTxs>2<", b"<NbOfTxs>3<"),
            "NbOfTxs 3 but 2 transactions",
            "MSG1",
            ["T1", "T2"],
        ),
        (
            TWO.replace(b"<TxId>T2</TxId>", b""),
            "PmtId/TxId is required by this rail",
            "MSG1",
            ["T1"],
        ),
        (
            TWO.replace(b"<TxId>T1</TxId>", b"<TxId> \n </TxId>"),
            "PmtId/TxId is required by this rail",
            "MSG1",
            [" \n ", "T2"],  # as read, unstripped
        ),
    ],
)
def test_rejections_say_why_and_name_what_they_could_read(
    body: bytes, detail: str, msg_id: str | None, tx_ids: list[str]
) -> None:
    with pytest.raises(IsoFormatError) as info:
        parse_pacs008(body)
    assert info.value.detail.startswith(detail)
    assert (info.value.msg_id, info.value.tx_ids) == (msg_id, tx_ids)


def test_xsd_rejection_inside_an_envelope_still_names_the_transactions() -> None:
    doc = TWO.split(b"?>", 1)[1].replace(b"<ChrgBr>SHAR</ChrgBr>", b"", 1)
    with pytest.raises(IsoFormatError) as info:
        parse_pacs008(b"<Envelope>" + HDR + doc + b"</Envelope>")
    assert info.value.detail.startswith("XSD: line ")
    assert (info.value.msg_id, info.value.tx_ids) == ("MSG1", ["T1", "T2"])


class _AcceptAll:
    def validate(self, _doc: object) -> bool:
        return True


def test_an_amount_decimal_cannot_read_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    # Unreachable through the XSD (it checks the decimal first): the guard behind it.
    monkeypatch.setattr(iso_codec, "schema", lambda _name: _AcceptAll())
    with pytest.raises(IsoFormatError) as info:
        parse_pacs008(TWO.replace(b">12.50<", b">12,50<", 1))
    assert (info.value.detail, info.value.msg_id) == ("bad IntrBkSttlmAmt", "MSG1")
    assert info.value.tx_ids == ["T1", "T2"]


def test_the_first_element_on_a_path_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    # Structures the XSD forbids, to pin down which element is read when there are several.
    monkeypatch.setattr(iso_codec, "schema", lambda _name: _AcceptAll())
    body = _pacs008([_one()], ["T1"])
    body = body.replace(b"<CdtrAcct><Id>", b"<CdtrAcct><Id><Othr><Id>O1</Id></Othr>", 1)
    body = body.replace(b"<Cdtr><Nm>", b"<Cdtr><Nm/><Nm>", 1)
    (ins,) = parse_pacs008(body).transactions
    assert ins.creditor_account == IBANS[1]  # an IBAN is preferred wherever it stands
    assert ins.creditor_name == ""  # the first Nm, empty


# --- pacs.002 ---------------------------------------------------------------------------------


@st.composite
def statuses(draw: st.DrawFn) -> TxStatus:
    return TxStatus(
        end_to_end_id=draw(xml_text),
        tx_id=draw(xml_text),
        uetr=draw(opt_text),
        instr_id=draw(opt_text),
        status=draw(st.sampled_from(["RCVD", "ACSP", "ACSC", "RJCT"]) | xml_text),
        reason=draw(opt_text),
        accepted_at=NOW,
        fee=draw(st.none() | st.decimals(-10, 1000, places=2)),
        currency=draw(opt_text),
        settlement_date=draw(st.none() | st.dates()),
        bank_ref=draw(opt_text),
    )


def _find(el: etree._Element, path: str) -> str | None:
    found = el.find(path, S)
    return None if found is None else (found.text or "")


@settings(max_examples=50, deadline=None)
@given(
    st.lists(statuses(), max_size=8),
    xml_text,
    opt_text,
    opt_text,
    opt_text,
    xml_text,
)
def test_pacs002_reads_back_with_lxml(
    sts: list[TxStatus],
    msg_id: str,
    group_status: str | None,
    group_reason: str | None,
    group_detail: str | None,
    agent: str,
) -> None:
    body = build_pacs002(
        msg_id=msg_id,
        created=NOW,
        orig_msg_id="",
        statuses=sts,
        group_status=group_status,
        group_reason=group_reason,
        group_detail=group_detail,
        agent_name=agent,
    )
    assert body.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n<Document xmlns=")
    doc = etree.fromstring(body)
    # lxml writes it back unchanged (but for <X></X>, an empty string, read back as no text):
    # the escaping is lxml's own, byte for byte.
    again = etree.tostring(doc, xml_declaration=True, encoding="UTF-8")
    assert again == re.sub(rb"<(\w+)></\1>", rb"<\1/>", body)
    assert doc.tag == f"{{{PACS002_NS}}}Document"
    rpt = "s:FIToFIPmtStsRpt"
    assert _find(doc, f"{rpt}/s:GrpHdr/s:MsgId") == msg_id
    assert _find(doc, f"{rpt}/s:GrpHdr/s:CreDtTm") == "2024-05-06T10:00:07+00:00"
    grp = doc.find(f"{rpt}/s:OrgnlGrpInfAndSts", S)
    assert grp is not None
    assert _find(grp, "s:OrgnlMsgId") == "NOTPROVIDED"
    assert _find(grp, "s:OrgnlMsgNmId") == "pacs.008.001.08"
    assert _find(grp, "s:GrpSts") == (group_status or None)
    with_reason = bool(group_status and group_reason)
    assert _find(grp, "s:StsRsnInf/s:Rsn/s:Cd") == (group_reason if with_reason else None)
    detail = group_detail[:105] if with_reason and group_detail else None
    assert _find(grp, "s:StsRsnInf/s:AddtlInf") == detail
    txs = doc.findall(f"{rpt}/s:TxInfAndSts", S)
    assert len(txs) == len(sts)
    for i, (tx, want) in enumerate(zip(txs, sts, strict=True), start=1):
        _check_tx(tx, want, f"{msg_id}-{i}"[:35], agent)


def _check_tx(tx: etree._Element, want: TxStatus, sts_id: str, agent: str) -> None:
    charged = want.fee is not None and want.fee > 0 and bool(want.currency)
    expected = {
        "StsId": sts_id,
        "OrgnlInstrId": want.instr_id or None,
        "OrgnlEndToEndId": want.end_to_end_id or "NOTPROVIDED",
        "OrgnlTxId": want.tx_id,
        "OrgnlUETR": want.uetr or None,
        "TxSts": want.status,
        "StsRsnInf": "" if want.reason else None,
        "ChrgsInf": "" if charged else None,
        "AccptncDtTm": "2024-05-06T10:00:07+00:00",
        "FctvIntrBkSttlmDt": "" if want.settlement_date else None,
        "AcctSvcrRef": want.bank_ref or None,
    }
    # Schema order, and only the elements that have something to say.
    assert [etree.QName(c).localname for c in tx] == [
        k for k, v in expected.items() if v is not None
    ]
    for name, value in expected.items():
        if value:
            assert _find(tx, f"s:{name}") == value
    assert _find(tx, "s:StsRsnInf/s:Rsn/s:Cd") == (want.reason or None)
    amt = tx.find("s:ChrgsInf/s:Amt", S)
    if charged:
        assert amt is not None
        assert (amt.text, amt.get("Ccy")) == (str(want.fee), want.currency)
        assert _find(tx, "s:ChrgsInf/s:Agt/s:FinInstnId/s:Nm") == agent
    else:
        assert amt is None
    settled = want.settlement_date.isoformat() if want.settlement_date else None
    assert _find(tx, "s:FctvIntrBkSttlmDt/s:Dt") == settled


def test_pacs002_escapes_awkward_characters_like_lxml() -> None:
    status = TxStatus(
        end_to_end_id="a&b",
        tx_id="<T\r1>",
        uetr=None,
        instr_id=None,
        status="RJCT",
        reason="'q\"",
        accepted_at=NOW,
        fee=Decimal("1.5"),
        currency='E"U\tR\n',
        bank_ref="é€😀",
    )
    body = build_pacs002(
        msg_id="M", created=NOW, orig_msg_id="O", statuses=[status], agent_name="]]>"
    )
    assert b"<OrgnlEndToEndId>a&amp;b</OrgnlEndToEndId>" in body
    assert b"<OrgnlTxId>&lt;T&#13;1&gt;</OrgnlTxId>" in body
    assert b"<Cd>'q\"</Cd>" in body
    assert b'<Amt Ccy="E&quot;U&#9;R&#10;">1.5</Amt>' in body
    assert b"<Nm>]]&gt;</Nm>" in body
    assert "<AcctSvcrRef>é€😀</AcctSvcrRef>".encode() in body


def test_pacs002_cuts_ids_and_details_to_their_schema_lengths() -> None:
    status = TxStatus("E", "T", None, None, "RJCT", "AC01", NOW)
    body = build_pacs002(
        msg_id="M" * 40,
        created=NOW,
        orig_msg_id="O",
        statuses=[status],
        group_status="RJCT",
        group_reason="FF01",
        group_detail="x<" * 100,
    )
    doc = etree.fromstring(body)
    assert _find(doc, ".//s:StsId") == "M" * 35  # Max35Text
    assert _find(doc, ".//s:OrgnlGrpInfAndSts/s:StsRsnInf/s:AddtlInf") == ("x<" * 100)[:105]
    assert _find(doc, ".//s:TxInfAndSts/s:StsRsnInf/s:Rsn/s:Cd") == "AC01"
    assert doc.find(".//s:TxInfAndSts/s:StsRsnInf/s:AddtlInf", S) is None


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        ("\x00", ValueError),
        ("a\x0bb", ValueError),
        ("\ufffe", ValueError),
        ("\ud800", UnicodeError),
    ],
)
def test_pacs002_refuses_what_xml_cannot_carry(bad: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        build_pacs002(msg_id="M", created=NOW, orig_msg_id=bad, statuses=[])
    charged = TxStatus("E", "T", None, None, "ACSC", None, NOW, Decimal(1), "EUR")
    for status in (
        dataclasses.replace(charged, tx_id=bad),
        dataclasses.replace(charged, currency=bad),  # an attribute
    ):
        with pytest.raises(error):
            build_pacs002(msg_id="M", created=NOW, orig_msg_id="O", statuses=[status])
    with pytest.raises(error):
        build_pacs002(msg_id="M", created=NOW, orig_msg_id="O", statuses=[charged], agent_name=bad)


def test_pacs002_for_an_accepted_message_is_what_the_gateway_expects() -> None:
    status = TxStatus(
        end_to_end_id="",
        tx_id="T1",
        uetr="u-1",
        instr_id="I1",
        status="ACSC",
        reason=None,
        accepted_at=NOW,
        fee=Decimal("0.20"),
        currency="EUR",
        settlement_date=dt.date(2024, 5, 6),
        bank_ref="RTGS1",
    )
    body = build_pacs002(
        msg_id="B1", created=NOW, orig_msg_id="MSG1", statuses=[status], agent_name="RTGS"
    )
    assert body == (
        b"<?xml version='1.0' encoding='UTF-8'?>\n"
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10"><FIToFIPmtStsRpt>'
        b"<GrpHdr><MsgId>B1</MsgId><CreDtTm>2024-05-06T10:00:07+00:00</CreDtTm></GrpHdr>"
        b"<OrgnlGrpInfAndSts><OrgnlMsgId>MSG1</OrgnlMsgId>"
        b"<OrgnlMsgNmId>pacs.008.001.08</OrgnlMsgNmId></OrgnlGrpInfAndSts>"
        b"<TxInfAndSts><StsId>B1-1</StsId><OrgnlInstrId>I1</OrgnlInstrId>"
        b"<OrgnlEndToEndId>NOTPROVIDED</OrgnlEndToEndId><OrgnlTxId>T1</OrgnlTxId>"
        b"<OrgnlUETR>u-1</OrgnlUETR><TxSts>ACSC</TxSts>"
        b'<ChrgsInf><Amt Ccy="EUR">0.20</Amt><Agt><FinInstnId><Nm>RTGS</Nm></FinInstnId></Agt>'
        b"</ChrgsInf><AccptncDtTm>2024-05-06T10:00:07+00:00</AccptncDtTm>"
        b"<FctvIntrBkSttlmDt><Dt>2024-05-06</Dt></FctvIntrBkSttlmDt>"
        b"<AcctSvcrRef>RTGS1</AcctSvcrRef></TxInfAndSts></FIToFIPmtStsRpt></Document>"
    )
