"""The ISO 20022 codecs on every payment's path: pacs.008 out (one or a bundle of up to 32,
XSD-validated) and pacs.002 in (read in one pass per transaction)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from paygate.domain import (
    Account,
    Agent,
    ChargeBearer,
    Money,
    Party,
    PaymentOrder,
    PostalAddress,
    Priority,
    Remittance,
    StructuredReference,
)
from paygate.errors import FieldError, SchemaInvalid, UnsupportedMessage
from paygate.messages.pacs002 import TxStatus, build_pacs002, parse_pacs002
from paygate.messages.pacs008 import build_pacs008, parse_pacs008
from paygate.messages.xsd import read_iso, validate
from simulators import iso_codec
from tests.unit.messages.msg_factories import CREATED, make_order

SETTLE = dt.date(2024, 5, 6)
NS = "urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10"
WHERE = "/Document/FIToFIPmtStsRpt"

# --- strategies -----------------------------------------------------------------------------

IBANS = ["DE89370400440532013000", "FR1420041010050500013M02606", "GB29NWBK60161331926819"]
BICS = ["COBADEFFXXX", "BNPAFRPPXXX", "DEUTDEFF500", "BARCGB22"]
LEIS = ["5493001KJTIIGC8Y1R12", "529900T8BM49AURSDO55"]
# Texts survive a round trip when they have no surrounding blanks (the reader strips them);
# & < > " ' and non-ASCII must come back as they went in.
text = (
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcxyz0123456789 .,-&<>\"'éü€", max_size=30)
    .map(str.strip)
    .filter(bool)
)
reference = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9\-]{0,15}", fullmatch=True)
code4 = st.from_regex(r"[A-Z0-9]{4}", fullmatch=True)


@st.composite
def addresses(draw: st.DrawFn) -> PostalAddress:
    return PostalAddress(
        street_name=draw(st.none() | text),
        building_number=draw(st.none() | st.sampled_from(["1", "12a"])),
        post_code=draw(st.none() | st.sampled_from(["10115", "75002"])),
        town_name=draw(st.none() | text),
        country=draw(st.none() | st.sampled_from(["DE", "FR"])),
        address_lines=draw(st.lists(text, max_size=2)),
    )


@st.composite
def parties(draw: st.DrawFn) -> Party:
    other_id = draw(st.none() | reference)
    return Party(
        name=draw(text),
        address=draw(st.none() | addresses()),
        bic=draw(st.none() | st.sampled_from(BICS)),
        lei=draw(st.none() | st.sampled_from(LEIS)),
        other_id=other_id,
        other_id_scheme=draw(st.none() | st.sampled_from(["TXID", "PROPRIETARY"]))
        if other_id
        else None,
        country_of_residence=draw(st.none() | st.just("DE")),
    )


@st.composite
def agents(draw: st.DrawFn) -> Agent:
    if draw(st.booleans()):
        return Agent(bic=draw(st.sampled_from(BICS)))
    return Agent(
        clearing_system=draw(st.none() | st.sampled_from(["USABA", "DEBLZ"])),
        member_id=draw(st.from_regex(r"[0-9]{8,9}", fullmatch=True)),
        name=draw(st.none() | text),
        lei=draw(st.none() | st.sampled_from(LEIS)),
    )


@st.composite
def accounts(draw: st.DrawFn) -> Account:
    if draw(st.booleans()):
        return Account(iban=draw(st.sampled_from(IBANS)), currency=draw(st.none() | st.just("EUR")))
    return Account(other=draw(reference), scheme=draw(st.none() | st.sampled_from(["BBAN", "X1"])))


@st.composite
def remittances(draw: st.DrawFn) -> Remittance:
    # An issuer is written inside Tp, so only with a type.
    structured = [
        StructuredReference(
            reference=ref, type=kind, issuer=draw(st.none() | text) if kind else None
        )
        for ref, kind in draw(
            st.lists(
                st.tuples(reference, st.none() | st.sampled_from(["SCOR", "RADM", "CUSTOM"])),
                max_size=2,
            )
        )
    ]
    unstructured = draw(st.none() | text)
    if unstructured is None and not structured:
        unstructured = "Invoice"
    return Remittance(unstructured=unstructured, structured=structured)


@st.composite
def orders(draw: st.DrawFn) -> PaymentOrder:
    currency = draw(st.sampled_from(["EUR", "USD", "JPY", "BHD"]))
    places = {"JPY": 0, "BHD": 3}.get(currency, 2)
    return PaymentOrder(
        amount=Money(
            currency=currency,
            value=Decimal(draw(st.integers(1, 10**12))).scaleb(-places),
        ),
        debtor=draw(parties()),
        debtor_account=draw(accounts()),
        debtor_agent=draw(agents()),
        creditor=draw(parties()),
        creditor_account=draw(accounts()),
        creditor_agent=draw(agents()),
        intermediary_agents=draw(st.lists(agents(), max_size=2)),
        end_to_end_id=draw(reference),
        instruction_id=draw(st.none() | reference),
        uetr=uuid.UUID(int=draw(st.integers(0, 2**128 - 1)), version=4),
        remittance=draw(st.none() | remittances()),
        purpose=draw(st.none() | code4),
        charge_bearer=draw(st.sampled_from(list(ChargeBearer))),
        priority=draw(st.sampled_from(list(Priority))),
        business_category=draw(st.none() | reference),
    )


# --- pacs.008 out ---------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(st.lists(orders(), min_size=1, max_size=32), st.booleans())
def test_pacs008_round_trip_of_up_to_32_orders(batch: list[PaymentOrder], instructed: bool) -> None:
    tx_ids = [f"TX-{i}" for i in range(len(batch))]
    xml = build_pacs008(
        batch,
        msg_id="BUNDLE-1",
        created=CREATED,
        tx_ids=tx_ids,
        settlement_date=SETTLE,
        instructing_agent_bic="PAYGDEFFXXX",
        instructed_agent_bic="BNPAFRPPXXX" if instructed else None,
    )
    message = parse_pacs008(xml)
    assert message.msg_id == "BUNDLE-1"
    assert [t.tx_id for t in message.transactions] == tx_ids
    assert message.orders == batch
    assert {t.settlement_date for t in message.transactions} == {SETTLE}
    # What is sent is exactly lxml's serialisation of the tree it parses to.
    reserialized = etree.tostring(etree.fromstring(xml), xml_declaration=True, encoding="UTF-8")
    assert reserialized == xml


def _build(
    batch: list[PaymentOrder], tx_ids: list[str] | None = None, validate: bool = True
) -> bytes:
    return build_pacs008(
        batch,
        msg_id="M",
        created=CREATED,
        tx_ids=tx_ids or [f"T{i}" for i in range(len(batch))],
        settlement_date=SETTLE,
        validate=validate,
    )


def test_pacs008_unvalidated_bytes_are_the_validated_ones(order: PaymentOrder) -> None:
    assert _build([order]) == _build([order], validate=False)


@pytest.mark.parametrize(
    "value",
    ["Smith & Sons <Ltd> \"quoted\" 'single'", "a\rb\tc\nd", "Zürich € 東京 😀", "]]> end"],
)
def test_pacs008_escapes_text_as_lxml_does(value: str) -> None:
    order = make_order(debtor=Party(name=value))
    xml = _build([order])
    element = etree.Element("Nm")
    element.text = value
    assert etree.tostring(element, encoding="UTF-8", xml_declaration=False) in xml
    assert parse_pacs008(xml).orders[0].debtor.name == value.strip()


def test_pacs008_writes_empty_elements_as_lxml_does() -> None:
    order = make_order(debtor=Party(name="A", address=PostalAddress()), remittance=Remittance())
    xml = _build([order])
    assert b"<Dbtr><Nm>A</Nm><PstlAdr/></Dbtr>" in xml
    assert xml.endswith(b"<RmtInf/></CdtTrfTxInf></FIToFICstmrCdtTrf></Document>")


def test_pacs008_refuses_what_xml_cannot_carry(order: PaymentOrder) -> None:
    # As lxml refuses these when a text is set.
    control = make_order(creditor=Party(name="bad\x01name"))
    with pytest.raises(ValueError, match="All strings must be XML compatible"):
        _build([control])
    with pytest.raises(UnicodeEncodeError):  # the model refuses it in a name; a TxId is free
        _build([order], tx_ids=["\ud800"])


def test_pacs008_xsd_rejects_an_invalid_message_with_element_paths(order: PaymentOrder) -> None:
    with pytest.raises(SchemaInvalid) as built:
        _build([order], tx_ids=["X" * 36])
    assert built.value.detail == (
        "pacs.008.001.08 does not validate against its XSD: value length cannot be greater than 35"
    )
    assert built.value.errors == [
        FieldError(
            "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf/PmtId/TxId",
            "value length cannot be greater than 35",
        )
    ]
    # The same verdict and explanation as validating the unvalidated bytes afterwards.
    unchecked = _build([order], tx_ids=["X" * 36], validate=False)
    with pytest.raises(SchemaInvalid) as later:
        validate(read_iso(unchecked))
    assert (later.value.detail, later.value.errors) == (built.value.detail, built.value.errors)


def test_pacs008_xsd_points_at_the_invalid_transaction_of_a_bundle() -> None:
    batch = [make_order(end_to_end_id=f"E-{i}", uetr=uuid.uuid4()) for i in range(32)]
    batch[5] = batch[5].model_copy(
        update={"debtor": Party(name="A", address=PostalAddress(town_name=""))}
    )
    with pytest.raises(SchemaInvalid) as exc:
        _build(batch)
    assert [e.pointer for e in exc.value.errors] == [
        "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[6]/Dbtr/PstlAdr/TwnNm"
    ]


# --- pacs.002 in ----------------------------------------------------------------------------

statuses = st.builds(
    TxStatus,
    original_end_to_end_id=st.none() | reference,
    original_tx_id=st.none() | reference,
    original_uetr=st.none() | st.uuids(version=4),
    status=st.sampled_from(["ACSC", "ACCC", "ACSP", "RJCT", "PDNG", "RCVD"]),
    reason_code=st.none() | st.sampled_from(["AC04", "AM04", "FF01", "PROPRIETARY-1"]),
    # One AddtlInf holds 105 characters; longer texts are cut into two.
    reason_text=st.none() | text,
    accepted_at=st.none()
    | st.datetimes(
        min_value=dt.datetime(2020, 1, 1),
        max_value=dt.datetime(2030, 1, 1),
        timezones=st.just(dt.UTC),
    ).map(lambda d: d.replace(microsecond=0)),
    original_instruction_id=st.none() | reference,
    original_msg_id=reference,
)


@settings(max_examples=50, deadline=None)
@given(st.lists(statuses, min_size=1, max_size=32))
def test_pacs002_round_trip_of_up_to_32_statuses(sent: list[TxStatus]) -> None:
    xml = build_pacs002(sent, msg_id="STS-1", created=CREATED, original_msg_id="ORIG")
    assert parse_pacs002(xml) == sent


@settings(max_examples=25, deadline=None)
@given(st.lists(statuses, min_size=1, max_size=32), st.sampled_from(["ACSC", "RJCT", "PART"]))
def test_pacs002_statuses_under_a_group_status_take_its_message_id(
    sent: list[TxStatus], group: str
) -> None:
    xml = build_pacs002(
        sent, msg_id="STS-1", created=CREATED, original_msg_id="ORIG", group_status=group
    )
    expected = [TxStatus(**{**vars(s), "original_msg_id": "ORIG"}) for s in sent]
    assert parse_pacs002(xml) == expected


def _sim_status(
    tx_id: str = "REF-1",
    uetr: str | None = "3f1f7b4e-1c7a-4d6e-9a55-1e2f3a4b5c6d",
    status: str = "ACSC",
    reason: str | None = None,
) -> iso_codec.TxStatus:
    return iso_codec.TxStatus(
        end_to_end_id="E2E-1",
        tx_id=tx_id,
        uetr=uetr,
        instr_id="INSTR-1",
        status=status,
        reason=reason,
        accepted_at=CREATED,
        fee=Decimal("1.50"),
        currency="EUR",
        settlement_date=SETTLE,
        bank_ref="BANK-1",
    )


def test_reads_the_simulated_rails_report() -> None:
    answer = iso_codec.build_pacs002(
        msg_id="B1",
        created=CREATED,
        orig_msg_id="MSG-9",
        statuses=[
            _sim_status(),
            _sim_status(tx_id="REF-2", uetr=None, status="RJCT", reason="AC04"),
        ],
        agent_name="RTGS",
    )
    assert parse_pacs002(answer) == [
        TxStatus(
            original_end_to_end_id="E2E-1",
            original_tx_id="REF-1",
            original_uetr=uuid.UUID("3f1f7b4e-1c7a-4d6e-9a55-1e2f3a4b5c6d"),
            status="ACSC",
            accepted_at=CREATED,
            original_instruction_id="INSTR-1",
            original_msg_id="MSG-9",
        ),
        TxStatus(
            original_end_to_end_id="E2E-1",
            original_tx_id="REF-2",
            original_uetr=None,
            status="RJCT",
            reason_code="AC04",
            accepted_at=CREATED,
            original_instruction_id="INSTR-1",
            original_msg_id="MSG-9",
        ),
    ]


def test_reads_the_simulated_rails_rejection_of_a_whole_message() -> None:
    detail = "XSD: line 1: " + "x" * 120
    answer = iso_codec.build_pacs002(
        msg_id="B1",
        created=CREATED,
        orig_msg_id="MSG-9",
        statuses=[],
        group_status="RJCT",
        group_reason="FF01",
        group_detail=detail,
    )
    assert parse_pacs002(answer) == [
        TxStatus(
            original_end_to_end_id=None,
            original_tx_id=None,
            original_uetr=None,
            status="RJCT",
            reason_code="FF01",
            reason_text=detail[:105],
            original_msg_id="MSG-9",
            group_level=True,
        )
    ]


def _report(*transactions: str, group: str = "") -> bytes:
    return (
        f'<Document xmlns="{NS}"><FIToFIPmtStsRpt><GrpHdr><MsgId>S</MsgId>'
        f"<CreDtTm>2024-05-06T10:30:00+00:00</CreDtTm></GrpHdr>{group}"
        + "".join(f"<TxInfAndSts>{tx}</TxInfAndSts>" for tx in transactions)
        + "</FIToFIPmtStsRpt></Document>"
    ).encode()


GROUP_RJCT = (
    "<OrgnlGrpInfAndSts><OrgnlMsgId>M-1</OrgnlMsgId><OrgnlMsgNmId>pacs.008.001.08</OrgnlMsgNmId>"
    "<GrpSts>RJCT</GrpSts><StsRsnInf><Rsn><Cd>FF01</Cd></Rsn><AddtlInf>bad file</AddtlInf>"
    "</StsRsnInf></OrgnlGrpInfAndSts>"
)


def test_transaction_without_status_takes_the_group_status_and_reason() -> None:
    own = "<StsRsnInf><Rsn><Cd>AC04</Cd></Rsn></StsRsnInf>"
    [inherits, keeps_reason] = parse_pacs002(
        _report("<OrgnlTxId>A</OrgnlTxId>", f"<OrgnlTxId>B</OrgnlTxId>{own}", group=GROUP_RJCT)
    )
    assert (inherits.status, inherits.reason_code, inherits.reason_text) == (
        "RJCT",
        "FF01",
        "bad file",
    )
    assert (keeps_reason.status, keeps_reason.reason_code, keeps_reason.reason_text) == (
        "RJCT",
        "AC04",
        None,
    )
    assert inherits.original_msg_id == "M-1"


@pytest.mark.parametrize(
    "group", ["", "<OrgnlGrpInfAndSts><OrgnlMsgId>M</OrgnlMsgId></OrgnlGrpInfAndSts>"]
)
def test_missing_status_without_a_group_status_is_refused(group: str) -> None:
    with pytest.raises(SchemaInvalid) as exc:
        parse_pacs002(_report("<TxSts>ACSC</TxSts>", "<OrgnlTxId>B</OrgnlTxId>", group=group))
    assert exc.value.detail == "transaction status missing"
    assert exc.value.errors == [FieldError(f"{WHERE}/TxInfAndSts[1]/TxSts", "required")]


def test_bad_uetr_is_refused_with_its_path() -> None:
    with pytest.raises(SchemaInvalid) as exc:
        parse_pacs002(_report("<OrgnlUETR>not-a-uuid</OrgnlUETR><TxSts>ACSC</TxSts>"))
    assert exc.value.detail == "OrgnlUETR is not a UUID"
    assert exc.value.errors == [FieldError(f"{WHERE}/TxInfAndSts[0]/OrgnlUETR", "not a UUID")]


def test_bad_acceptance_time_is_refused_and_z_means_utc() -> None:
    with pytest.raises(SchemaInvalid) as exc:
        parse_pacs002(_report("<TxSts>ACSC</TxSts><AccptncDtTm>yesterday</AccptncDtTm>"))
    assert exc.value.detail == "AccptncDtTm is not a date-time"
    assert exc.value.errors == [
        FieldError(f"{WHERE}/TxInfAndSts[0]/AccptncDtTm", "not an ISO date-time")
    ]
    [status] = parse_pacs002(
        _report("<TxSts>ACSC</TxSts><AccptncDtTm>2024-05-06T10:30:00Z</AccptncDtTm>")
    )
    assert status.accepted_at == CREATED


def test_proprietary_reason_and_every_additional_text() -> None:
    infos = (
        "<StsRsnInf><Rsn><Cd> </Cd><Prtry>MY-REASON</Prtry></Rsn><AddtlInf>one</AddtlInf>"
        "<AddtlInf> </AddtlInf><AddtlInf> two </AddtlInf></StsRsnInf>"
        "<StsRsnInf><Rsn><Cd>AC04</Cd></Rsn><AddtlInf>three</AddtlInf></StsRsnInf>"
    )
    [status] = parse_pacs002(_report(f"<TxSts>RJCT</TxSts>{infos}"))
    # The code of the first StsRsnInf only; the texts of all, blanks dropped.
    assert (status.reason_code, status.reason_text) == ("MY-REASON", "one two three")


def test_group_only_report_and_header_only_report() -> None:
    [group] = parse_pacs002(_report(group=GROUP_RJCT))
    assert group == TxStatus(
        original_end_to_end_id=None,
        original_tx_id=None,
        original_uetr=None,
        status="RJCT",
        reason_code="FF01",
        reason_text="bad file",
        original_msg_id="M-1",
        group_level=True,
    )
    assert parse_pacs002(_report()) == []


def test_other_message_is_refused() -> None:
    xml = _build([make_order()])
    with pytest.raises(UnsupportedMessage, match=r"expected pacs\.002, got pacs\.008\.001\.08"):
        parse_pacs002(xml)


def test_other_versions_and_envelopes_read_the_same() -> None:
    bare = _report("<OrgnlTxId>A</OrgnlTxId><TxSts>ACSP</TxSts>", group=GROUP_RJCT)
    expected = parse_pacs002(bare)
    for version in ("pacs.002.001.03", "pacs.002.001.12"):
        assert parse_pacs002(bare.replace(b"pacs.002.001.10", version.encode())) == expected
    wrapped = (
        b'<Envelope><AppHdr xmlns="urn:iso:std:iso:20022:tech:xsd:head.001.001.02">'
        b"<MsgDefIdr>pacs.002.001.10</MsgDefIdr></AppHdr>" + bare + b"</Envelope>"
    )
    assert parse_pacs002(wrapped) == expected
