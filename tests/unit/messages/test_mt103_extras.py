"""MT103 fields the canonical order cannot hold (33B, 36, 71F, 71G, 72, 13C, 53a, 54a)
travel through pacs.008.001.08 and back; the rest stays in the loss report."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from paygate.domain import Money
from paygate.messages.loss import LossCode
from paygate.messages.mt.blocks import parse_mt_file
from paygate.messages.pacs008 import parse_pacs008
from paygate.messages.translate import mt103_to_pacs008, pacs008_to_mt103
from paygate.messages.xsd import read_iso, validate

DATA = Path(__file__).resolve().parents[2] / "data"
CREATED = dt.datetime(2024, 5, 6, 10, 30, tzinfo=dt.UTC)
NO_PLACE = {"23E", "26T", "77B"}


def _fields(text: str) -> list[tuple[str, str]]:
    return [(f.tag, f.value) for m in parse_mt_file(text) for f in m.fields]


def test_extras_map_into_pacs008_and_validate() -> None:
    xml, report = mt103_to_pacs008(
        (DATA / "mt103_full.fin").read_text(), msg_id="M", created=CREATED
    )
    validate(read_iso(xml))
    assert {(e.code, e.path.strip("/")) for e in report.entries} == {
        (LossCode.NOT_MAPPED, tag) for tag in NO_PLACE
    }
    message = parse_pacs008(xml)
    assert message.settlement_method == "COVE"  # 53a/54a: reimbursement (cover)
    x = message.transactions[0].extras
    assert x.instructed_amount == Money(currency="USD", value=Decimal("1000.00"))
    assert x.exchange_rate == "0.98"
    assert [(c.amount.value, c.receivers) for c in x.charges] == [
        (Decimal("5.00"), False),
        (Decimal("2.50"), False),
        (Decimal("7.00"), True),
    ]
    assert x.previous_instructing_agent == "CHASUS33XXX"
    assert x.for_creditor_agent == ("/ACC/CREDIT SAME DAY",)
    assert x.for_next_agent == ("/REC/PAYMENT FOR GOODS",)
    assert x.settlement_times == (("CLSTIME", "09:15:00+01:00"),)
    assert x.instructing_reimbursement_agent and x.instructed_reimbursement_agent


def test_extras_survive_mt103_pacs008_mt103() -> None:
    text = (DATA / "mt103_full.fin").read_text()
    xml, _ = mt103_to_pacs008(text, msg_id="M", created=CREATED)
    back, _ = pacs008_to_mt103(xml)
    original = {(t, v.replace(",00", ",").replace(",50", ",5")) for t, v in _fields(text)}
    rebuilt = set(_fields(back))
    assert {(t, v) for t, v in original if t not in NO_PLACE} == rebuilt


def test_plain_mt103_has_no_extras() -> None:
    xml, _ = mt103_to_pacs008((DATA / "mt103.fin").read_text(), msg_id="M", created=CREATED)
    assert not parse_pacs008(xml).transactions[0].extras
