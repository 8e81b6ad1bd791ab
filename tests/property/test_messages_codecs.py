from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from paygate.domain import Account, Agent, ChargeBearer, Money, Party, PaymentOrder, PostalAddress
from paygate.errors import MessageError
from paygate.messages.mt.blocks import parse_mt_file
from paygate.messages.mt.mt103 import build_mt103, parse_mt103
from paygate.messages.mt.rules import validate_mt
from paygate.messages.pacs008 import build_pacs008, parse_pacs008
from paygate.messages.translate import mt103_to_pacs008, pacs008_to_mt103
from paygate.messages.xsd import read_iso

CREATED = dt.datetime(2024, 5, 6, 10, 0, tzinfo=dt.UTC)
IBANS = ["DE89370400440532013000", "FR1420041010050500013M02606", "GB29NWBK60161331926819"]
BICS = ["COBADEFFXXX", "BNPAFRPPXXX", "DEUTDEFF500"]
x_text = (
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij0123456789 .,-", min_size=1, max_size=30)
    .map(str.strip)
    .filter(bool)
)
ref = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9\-]{0,14}", fullmatch=True)
currency = st.sampled_from(["EUR", "USD", "JPY", "GBP"])


@st.composite
def orders(draw: st.DrawFn) -> PaymentOrder:
    ccy = draw(currency)
    places = 0 if ccy == "JPY" else 2
    cents = draw(st.integers(min_value=1, max_value=10**12))
    town_style = draw(st.booleans())
    address = (
        PostalAddress(town_name=draw(x_text), country=draw(st.sampled_from(["DE", "FR"])))
        if town_style
        else PostalAddress(address_lines=[draw(x_text)])
    )
    return PaymentOrder(
        amount=Money(currency=ccy, value=Decimal(cents).scaleb(-places)),
        debtor=Party(name=draw(x_text), address=address),
        debtor_account=Account(iban=draw(st.sampled_from(IBANS))),
        debtor_agent=Agent(bic=draw(st.sampled_from(BICS))),
        creditor=Party(name=draw(x_text)),
        creditor_account=Account(iban=draw(st.sampled_from(IBANS))),
        creditor_agent=Agent(bic=draw(st.sampled_from(BICS))),
        end_to_end_id=draw(st.one_of(st.just("NOTPROVIDED"), ref)),
        instruction_id=draw(ref),
        uetr=uuid.uuid4(),
        charge_bearer=draw(
            st.sampled_from([ChargeBearer.DEBT, ChargeBearer.CRED, ChargeBearer.SHAR])
        ),
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(orders(), min_size=1, max_size=3))
def test_pacs008_round_trip(batch: list[PaymentOrder]) -> None:
    tx_ids = [f"TX{i}" for i in range(len(batch))]
    xml = build_pacs008(
        batch, msg_id="M", created=CREATED, tx_ids=tx_ids, settlement_date=CREATED.date()
    )
    assert parse_pacs008(xml).orders == batch


@settings(max_examples=60, deadline=None)
@given(orders())
def test_mt103_to_pacs008_to_mt103_is_stable(order: PaymentOrder) -> None:
    mt = build_mt103(
        order,
        sender_reference=order.instruction_id or "R",
        value_date=CREATED.date(),
        sender_bic="COBADEFFXXX",
        receiver_bic="BNPAFRPPXXX",
    )
    validate_mt(parse_mt_file(mt)[0])  # the writer's output always passes the validator
    xml, _ = mt103_to_pacs008(mt, msg_id="M", created=CREATED)
    back, _ = pacs008_to_mt103(xml)
    first, second = parse_mt103(mt), parse_mt103(back)
    assert second.order == first.order
    assert second.uetr == order.uetr and first.order.amount == order.amount


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_raise_only_codec_errors(data: bytes) -> None:
    for reader in (read_iso, parse_pacs008):
        with contextlib.suppress(MessageError):
            reader(data)


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet="{}:12345ABCX\n-/,", max_size=200))
def test_random_mt_like_text_raises_only_codec_errors(text: str) -> None:
    try:
        for message in parse_mt_file(text):
            validate_mt(message)
    except MessageError:
        pass
