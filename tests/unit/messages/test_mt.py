from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from paygate.domain import Money, Party, PostalAddress, Remittance
from paygate.errors import MtSyntaxError, TranslationStopped
from paygate.messages.loss import LossCode, LossReport
from paygate.messages.mt.blocks import parse_mt_file
from paygate.messages.mt.mt103 import build_mt103, parse_mt103
from paygate.messages.mt.mt199 import parse_mt199_status
from paygate.messages.mt.rules import validate_mt
from paygate.messages.pacs008 import build_pacs008, parse_pacs008
from paygate.messages.translate import mt103_to_pacs008, pacs008_to_mt103
from tests.unit.messages.msg_factories import CREATED, make_order

VALUE = dt.date(2024, 5, 6)


def _mt103(order, **kw):
    args = {
        "sender_reference": "REF-1",
        "value_date": VALUE,
        "sender_bic": "COBADEFFXXX",
        "receiver_bic": "BNPAFRPPXXX",
    }
    args.update(kw)
    return build_mt103(order, **args)


def test_mt103_round_trip_keeps_amount_references_and_uetr(order) -> None:
    text = _mt103(order)
    assert "{3:{121:6c0a0a36-8f2f-4b1e-9d7a-2a6f3f0c1e11}}" in text
    assert ":32A:240506EUR1234,5\r\n" in text
    assert ":70:/ROC/E2E-2024-0001\r\n" in text
    parsed = parse_mt103(text)
    assert parsed.uetr == order.uetr
    assert parsed.order.amount == order.amount
    assert parsed.order.end_to_end_id == "E2E-2024-0001"
    assert parsed.order.debtor.address == order.debtor.address.model_copy(
        update={
            "street_name": None,
            "building_number": None,
            "post_code": None,
            "address_lines": ["Hauptstrasse 1"],
        }
    )
    assert parsed.order.creditor == order.creditor
    assert parsed.sender_bic == "COBADEFF" and parsed.value_date == VALUE


def test_long_reference_is_truncated_with_plus_and_reported(order) -> None:
    report = LossReport()
    text = _mt103(order, sender_reference="ABCDEFGHIJKLMNOPQRST", report=report)
    assert ":20:ABCDEFGHIJKLMNO+\r\n" in text
    assert report.entries[0].code is LossCode.TRUNCATED


def test_characters_outside_set_x_are_transliterated_and_reported() -> None:
    order = make_order(
        creditor=Party(name="Müller & Søn", address=PostalAddress(town_name="Köln", country="DE"))
    )
    report = LossReport()
    text = _mt103(order, report=report)
    assert "1/Muller + Son" in text and "3/DE/Koln" in text
    assert {e.code for e in report.entries} == {LossCode.CHARACTER_REPLACED}


def test_end_to_end_id_never_comes_from_field_21_and_defaults(order) -> None:
    text = _mt103(order.model_copy(update={"end_to_end_id": "NOTPROVIDED", "remittance": None}))
    assert ":70:" not in text
    assert parse_mt103(text).order.end_to_end_id == "NOTPROVIDED"


def test_mt103_to_pacs008_and_back(order) -> None:
    xml, report = mt103_to_pacs008(_mt103(order), msg_id="M1", created=CREATED)
    message = parse_pacs008(xml)
    [tx] = message.transactions
    assert tx.order.uetr == order.uetr and tx.tx_id == "REF-1"
    assert tx.order.amount == order.amount and tx.settlement_date == VALUE
    back, _ = pacs008_to_mt103(xml)
    assert parse_mt103(back).order.amount == order.amount
    assert not report


def test_missing_uetr_stops_translation(order) -> None:
    text = _mt103(order).replace("{3:{121:6c0a0a36-8f2f-4b1e-9d7a-2a6f3f0c1e11}}", "")
    with pytest.raises(TranslationStopped, match="UETR"):
        mt103_to_pacs008(text, msg_id="M", created=CREATED)


def test_multi_transaction_pacs008_cannot_become_one_mt103(order) -> None:
    other = order.model_copy(update={"uetr": uuid.uuid4()})
    xml = build_pacs008(
        [order, other],
        msg_id="M",
        created=CREATED,
        tx_ids=["A", "B"],
        settlement_date=VALUE,
        instructing_agent_bic="COBADEFFXXX",
        instructed_agent_bic="BNPAFRPPXXX",
    )
    with pytest.raises(TranslationStopped, match="2 transactions"):
        pacs008_to_mt103(xml)


def test_validator_reports_line_numbers() -> None:
    text = (
        "{1:F01COBADEFFAXXX0000000000}{2:I103BNPAFRPPAXXXN}{4:\n:20:A//B\n:23B:CRED\n"
        ":32A:240506EUR12.5\n:50K:/DE89\nX\n:59:/FR14\nY\n:71A:SHA\n-}"
    )
    with pytest.raises(MtSyntaxError) as info:
        validate_mt(parse_mt_file(text)[0])
    pointers = {e.pointer for e in info.value.errors}
    assert {"line 2", "line 4"} <= pointers


def test_several_messages_per_file_with_crlf(order) -> None:
    one = _mt103(order)
    two = _mt103(order.model_copy(update={"amount": Money(currency="EUR", value=Decimal(5))}))
    messages = parse_mt_file(one + "\r\n" + two)
    assert [m.get("32A").value for m in messages] == ["240506EUR1234,5", "240506EUR5,"]


def test_mt199_gpi_status_and_rejection() -> None:
    gpi = (
        "{1:F01BANKBEBBAXXX0000000000}{2:O1991200240506BANKDEFFAXXX00000000002405061200N}"
        "{3:{121:21b671f2-c0c8-4d78-8f98-981fbcb85248}}{4:\n:20:ST1\n:21:REF1\n"
        ":79://2405061200+0100\n//ACCC\n-}"
    )
    assert parse_mt199_status(gpi) == (
        uuid.UUID("21b671f2-c0c8-4d78-8f98-981fbcb85248"),
        "ACCC",
        None,
    )
    rejt = gpi.replace("//2405061200+0100\n//ACCC", "/REJT/99/AC01\n/MREF/REF1")
    assert parse_mt199_status(rejt)[1:] == ("RJCT", "AC01")


def test_remittance_longer_than_field_70_is_truncated_and_reported(order) -> None:
    long = order.model_copy(update={"remittance": Remittance(unstructured="X" * 140)})
    report = LossReport()
    text = _mt103(long, report=report)
    assert any(e.path == "/70" and e.code is LossCode.TRUNCATED for e in report.entries)
    validate_mt(parse_mt_file(text)[0])
