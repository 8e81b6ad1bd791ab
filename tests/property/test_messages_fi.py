"""Round trips for pacs.009 (and MT202/COV) and pacs.004 (and MT103 /RETN/)."""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from decimal import Decimal
from xml.sax.saxutils import escape

from hypothesis import example, given, settings
from hypothesis import strategies as st

from paygate.domain import Account, Agent, Money, Party
from paygate.errors import MessageError
from paygate.messages.camt056 import parse_camt056
from paygate.messages.mt.blocks import parse_mt_file
from paygate.messages.mt.mt202 import build_mt202
from paygate.messages.mt.rules import validate_mt
from paygate.messages.pacs004 import ReturnTx, build_pacs004, parse_pacs004
from paygate.messages.pacs009 import (
    FiTransfer,
    UnderlyingCustomer,
    build_pacs009,
    parse_pacs009,
)
from paygate.messages.translate_cash import mt900_to_camt054
from paygate.messages.translate_fi import (
    mt103_return_to_pacs004,
    mt199_to_pacs002,
    mt202_to_pacs009,
    pacs004_to_mt103_return,
    pacs009_to_mt202,
)

CREATED = dt.datetime(2024, 5, 6, 10, 0, tzinfo=dt.UTC)
# 8-character BICs: the MT header carries BIC8 + branch, and reads back as BIC8 for XXX.
BICS = ["COBADEFF", "BNPAFRPP", "CHASUS33", "CITIUS33"]
IBANS = ["DE89370400440532013000", "FR1420041010050500013M02606"]
x_text = (
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,-", min_size=1, max_size=30)
    .map(str.strip)
    .filter(bool)
)
ref = st.from_regex(r"[A-Z0-9][A-Z0-9\-]{0,14}", fullmatch=True)
codes = st.sampled_from(["AC01", "AC04", "AC06", "AM05", "BE04", "MS03", "RR01"])


@st.composite
def money(draw: st.DrawFn) -> Money:
    ccy = draw(st.sampled_from(["EUR", "USD", "JPY"]))
    places = 0 if ccy == "JPY" else 2
    units = draw(st.integers(min_value=1, max_value=10**12))
    return Money(currency=ccy, value=Decimal(units).scaleb(-places))


@st.composite
def transfers(draw: st.DrawFn) -> FiTransfer:
    sender, receiver, creditor = (draw(st.sampled_from(BICS)) for _ in range(3))
    underlying = None
    if draw(st.booleans()):
        underlying = UnderlyingCustomer(
            debtor=Party(name=draw(x_text)),
            creditor=Party(name=draw(x_text)),
            debtor_account=Account(iban=draw(st.sampled_from(IBANS))),
            creditor_account=Account(iban=draw(st.sampled_from(IBANS))),
            debtor_agent=Agent(bic=draw(st.sampled_from(BICS))),
            creditor_agent=Agent(bic=draw(st.sampled_from(BICS))),
            remittance=draw(st.one_of(st.none(), x_text)),
        )
    instruction = draw(ref)
    return FiTransfer(
        amount=draw(money()),
        settlement_date=draw(st.dates(dt.date(2000, 1, 1), dt.date(2068, 12, 31))),
        instruction_id=instruction,
        end_to_end_id=draw(ref),
        tx_id=instruction,
        uetr=uuid.uuid4(),
        debtor=Agent(bic=sender),
        creditor=Agent(bic=creditor),
        instructing_agent_bic=sender,
        instructed_agent_bic=receiver,
        creditor_agent=draw(st.one_of(st.none(), st.builds(Agent, bic=st.sampled_from(BICS)))),
        intermediary=draw(st.one_of(st.none(), st.builds(Agent, bic=st.sampled_from(BICS)))),
        instructions_for_next_agent=tuple(f"/REC/{t}" for t in draw(st.lists(x_text, max_size=2))),
        underlying=underlying,
        settlement_times=draw(
            st.sampled_from(
                [(), (("CLSTIME", "09:15:00+01:00"),), (("TILTIME", "16:00:00-05:00"),)]
            )
        ),
    )


@settings(max_examples=60, deadline=None)
@given(transfers())
def test_pacs009_round_trip(transfer: FiTransfer) -> None:
    xml = build_pacs009([transfer], msg_id="M", created=CREATED)
    assert parse_pacs009(xml).transfers == [transfer]


@settings(max_examples=60, deadline=None)
@given(transfers())
def test_mt202_pacs009_mt202_round_trip(transfer: FiTransfer) -> None:
    sender, receiver = transfer.instructing_agent_bic, transfer.instructed_agent_bic
    assert sender and receiver
    mt = build_mt202(transfer, sender_bic=sender, receiver_bic=receiver)
    validate_mt(parse_mt_file(mt)[0])  # the writer's output passes the validator
    xml, _ = mt202_to_pacs009(mt, msg_id="M", created=CREATED)
    assert parse_pacs009(xml).transfers == [transfer]
    again, _ = pacs009_to_mt202(xml)
    assert again == mt


@st.composite
def returns(draw: st.DrawFn) -> ReturnTx:
    amount = draw(money())
    return ReturnTx(
        return_id=draw(ref),
        returned_amount=amount,
        settlement_date=draw(st.dates(dt.date(2000, 1, 1), dt.date(2068, 12, 31))),
        reason_code=draw(codes),
        original_uetr=uuid.uuid4(),
        original_instruction_id=draw(ref),
        original_end_to_end_id=draw(st.one_of(st.none(), ref)),
        original_amount=draw(st.one_of(st.none(), st.just(amount))),
        reason_text=draw(st.one_of(st.none(), x_text)),
        charge_bearer=draw(st.sampled_from(["DEBT", "CRED", "SHAR"])),
        instructing_agent_bic=draw(st.sampled_from(BICS)),
        instructed_agent_bic=draw(st.sampled_from(BICS)),
    )


@settings(max_examples=60, deadline=None)
@given(returns())
@example(
    ReturnTx(
        return_id="R1",
        returned_amount=Money(currency="EUR", value=Decimal("1.00")),
        settlement_date=dt.date(2024, 5, 6),
        reason_code="AC01",
        original_uetr=uuid.UUID("6c0a0a36-8f2f-4b1e-9d7a-2a6f3f0c1e11"),
        original_instruction_id="I1",
        reason_text="ACCOUNT CLOSED BY THE BENEFICIARY IN MARCH",
        charge_bearer="SHAR",
        instructing_agent_bic="COBADEFF",
        instructed_agent_bic="BNPAFRPP",
    )
)
def test_pacs004_round_trip(ret: ReturnTx) -> None:
    xml = build_pacs004([ret], msg_id="M", created=CREATED)
    assert parse_pacs004(xml).returns == [ret]


@settings(max_examples=60, deadline=None)
@given(returns())
@example(
    ReturnTx(
        return_id="R1",
        returned_amount=Money(currency="EUR", value=Decimal("1.00")),
        settlement_date=dt.date(2024, 5, 6),
        reason_code="AC01",
        original_uetr=uuid.UUID("6c0a0a36-8f2f-4b1e-9d7a-2a6f3f0c1e11"),
        original_instruction_id="I1",
        reason_text="ACCOUNT CLOSED BY THE BENEFICIARY IN MARCH",
        charge_bearer="SHAR",
        instructing_agent_bic="COBADEFF",
        instructed_agent_bic="BNPAFRPP",
    )
)
def test_pacs004_mt103_return_round_trip(ret: ReturnTx) -> None:
    xml = build_pacs004([ret], msg_id="M", created=CREATED)
    mt, _ = pacs004_to_mt103_return(xml)
    validate_mt(parse_mt_file(mt)[0])
    back, _ = mt103_return_to_pacs004(mt, msg_id="M", created=CREATED)
    assert parse_pacs004(back).returns == [ret]


_MT_HEAD = "{1:F01COBADEFFAXXX0000000000}{2:I%sBNPAFRPPAXXXN}{3:{121:%s}}{4:\n"
_TAGS = ["20", "21", "13C", "25", "32A", "33B", "50K", "52A", "53A", "57A", "58A", "59", "71A"]
mt_lines = st.lists(
    st.tuples(
        st.sampled_from([*_TAGS, "72", "79", "13D"]),
        st.text(alphabet="ABCDEFGHIJ0123456789/,+-: \n", max_size=40),
    ),
    max_size=12,
)


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(["202", "103", "199", "900", "910"]),
    st.sampled_from(["6c0a0a36-8f2f-4b1e-9d7a-2a6f3f0c1e11", "not-a-uuid", ""]),
    mt_lines,
)
def test_mt_like_text_raises_only_typed_errors(mt: str, uetr: str, lines: list) -> None:
    body = "".join(f":{tag}:{value}\n" for tag, value in lines)
    text = _MT_HEAD % (mt, uetr) + body + "-}"
    for fn in (mt202_to_pacs009, mt103_return_to_pacs004, mt199_to_pacs002, mt900_to_camt054):
        with contextlib.suppress(MessageError):
            fn(text, msg_id="M", created=CREATED)


_XML_TAGS = ["RtrId", "OrgnlUETR", "RtrdIntrBkSttlmAmt", "IntrBkSttlmDt", "RtrRsnInf", "UETR"]
_SHAPES = {
    "pacs.004.001.09": ("<PmtRtr>", "<TxInf>", "</TxInf></PmtRtr>"),
    "pacs.009.001.08": ("<FICdtTrf>", "<CdtTrfTxInf>", "</CdtTrfTxInf></FICdtTrf>"),
    "camt.056.001.12": (
        "<FIToFIPmtCxlReq>",
        "<Undrlyg><TxInf>",
        "</TxInf></Undrlyg></FIToFIPmtCxlReq>",
    ),
}


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(sorted(_SHAPES)),
    st.lists(st.tuples(st.sampled_from(_XML_TAGS), st.text(max_size=12)), max_size=6),
)
def test_random_xml_raises_only_typed_errors(ident: str, parts: list) -> None:
    root, tx, close = _SHAPES[ident]
    inner = "".join(f"<{t} Ccy='EUR'>{escape(v)}</{t}>" for t, v in parts)
    data = (
        f"<Document xmlns='urn:iso:std:iso:20022:tech:xsd:{ident}'>{root}<GrpHdr><MsgId>M</MsgId>"
        f"<CreDtTm>2024-05-06T10:00:00</CreDtTm></GrpHdr>{tx}{inner}{close}</Document>"
    ).encode()
    for fn in (parse_pacs004, parse_pacs009, parse_camt056):
        with contextlib.suppress(MessageError):
            fn(data)
