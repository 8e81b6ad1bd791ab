"""pacs.009, pacs.004, camt.054, camt.056 and their MT counterparts: golden messages written
by this project (tests/data), translations both ways with loss reports, and the CLI."""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from paygate.cli.messages_cmd import register
from paygate.domain import Money
from paygate.errors import MessageError, SchemaInvalid, TranslationStopped
from paygate.messages.camt import build_camt054, parse_camt054
from paygate.messages.camt056 import build_camt056, parse_camt056
from paygate.messages.loss import LossCode
from paygate.messages.mt.blocks import parse_mt_file
from paygate.messages.mt.mt202 import build_mt202, parse_mt202
from paygate.messages.mt.rules import validate_mt
from paygate.messages.mt.statement import parse_mt_statements
from paygate.messages.pacs002 import parse_pacs002
from paygate.messages.pacs004 import ReturnTx, build_pacs004, parse_pacs004
from paygate.messages.pacs009 import build_pacs009, parse_pacs009
from paygate.messages.translate_cash import (
    camt053_to_mt940,
    camt054_to_mt900,
    mt900_to_camt054,
)
from paygate.messages.translate_fi import (
    mt103_return_to_pacs004,
    mt199_to_pacs002,
    mt202_to_pacs009,
    pacs002_to_mt199,
    pacs004_to_mt103_return,
    pacs009_to_mt202,
)
from paygate.messages.xsd import read_iso, validate

DATA = Path(__file__).resolve().parents[2] / "data"
CREATED = dt.datetime(2024, 5, 6, 10, 30, tzinfo=dt.UTC)


def _c14n(data: bytes) -> bytes:
    parser = etree.XMLParser(remove_blank_text=True)
    return etree.tostring(etree.fromstring(data, parser), method="c14n")


def _fields(text: str) -> list[tuple[str, str]]:
    return [(f.tag, f.value) for m in parse_mt_file(text) for f in m.fields]


# --- golden MX: parse -> model -> build -> equal -----------------------------------------


@pytest.mark.parametrize("name", ["pacs009.xml", "pacs009_cov.xml"])
def test_pacs009_golden(name: str) -> None:
    original = (DATA / name).read_bytes()
    message = parse_pacs009(original)
    rebuilt = build_pacs009(
        message.transfers,
        msg_id=message.msg_id,
        created=message.created,
        settlement_method=message.settlement_method,
        instructing_reimbursement_agent=message.instructing_reimbursement_agent,
        instructed_reimbursement_agent=message.instructed_reimbursement_agent,
    )
    assert _c14n(rebuilt) == _c14n(original)
    assert message.is_cover == (name == "pacs009_cov.xml")


def test_pacs004_golden() -> None:
    original = (DATA / "pacs004.xml").read_bytes()
    message = parse_pacs004(original)
    [r] = message.returns
    assert r.reason_code == "AC04"
    assert r.original_uetr == uuid.UUID("6c0a0a36-8f2f-4b1e-9d7a-2a6f3f0c1e11")
    rebuilt = build_pacs004(message.returns, msg_id=message.msg_id, created=message.created)
    assert _c14n(rebuilt) == _c14n(original)


def test_camt054_golden_validates() -> None:
    original = (DATA / "camt054.xml").read_bytes()
    validate(read_iso(original))
    notes = parse_camt054(original)
    assert [n.entries[0].credit_debit for n in notes] == ["DBIT", "CRDT"]
    rebuilt = build_camt054(notes, msg_id="NTF-0001", created=CREATED)
    assert _c14n(rebuilt) == _c14n(original)


def test_camt056_golden_validates() -> None:
    original = (DATA / "camt056.xml").read_bytes()
    validate(read_iso(original))
    requests = parse_camt056(original)
    assert len(requests) == 2 and requests[0].reason_code == "DUPL"
    rebuilt = build_camt056(
        requests,
        assignment_id="CXL-0001",
        assigner_bic="UBSWCHZH80A",
        assignee_bic="ABNANL2A",
        created=CREATED,
    )
    assert _c14n(rebuilt) == _c14n(original)


def test_camt056_needs_an_original_reference() -> None:
    from paygate.messages.camt056 import CancellationRequest

    with pytest.raises(SchemaInvalid):
        build_camt056(
            [CancellationRequest(cancellation_id="C1", reason_code="DUPL")],
            assignment_id="A",
            assigner_bic="COBADEFFXXX",
            assignee_bic="BNPAFRPPXXX",
            created=CREATED,
        )


# --- golden MT: parse -> model -> build -> same fields -----------------------------------


def test_mt202_golden_round_trip() -> None:
    text = (DATA / "mt202.fin").read_text()
    mt = parse_mt202(text)
    assert mt.transfer.end_to_end_id == "RELREF-7788"  # :21: -> EndToEndId
    assert mt.senders_correspondent is not None
    rebuilt = build_mt202(
        mt.transfer,
        sender_bic="COBADEFFXXX",
        receiver_bic="CHASUS33XXX",
        senders_correspondent=mt.senders_correspondent,
    )
    assert parse_mt202(rebuilt).transfer == mt.transfer


def test_mt202cov_golden_round_trip() -> None:
    text = (DATA / "mt202cov.fin").read_text()
    mt = parse_mt202(text)
    assert mt.cover and mt.transfer.underlying is not None
    assert mt.transfer.underlying.creditor.name == "Beta Imports SARL"
    rebuilt = build_mt202(mt.transfer, sender_bic="COBADEFFXXX", receiver_bic="CHASUS33XXX")
    assert "{119:COV}" in rebuilt
    assert parse_mt202(rebuilt).transfer == mt.transfer


# --- translations ------------------------------------------------------------------------


def test_mt202_to_pacs009_and_back() -> None:
    text = (DATA / "mt202.fin").read_text()
    xml, report = mt202_to_pacs009(text, msg_id="M1", created=CREATED)
    assert not report  # 13C /CLSTIME/ -> SttlmTmReq/CLSTm, 53A -> InstgRmbrsmntAgt
    message = parse_pacs009(xml)
    assert message.transfers[0].settlement_times == (("CLSTIME", "09:15:00+01:00"),)
    assert message.settlement_method == "INGA"  # 53a: reimbursed through a correspondent
    assert message.instructing_reimbursement_agent is not None
    [t] = message.transfers
    assert t.instructions_for_creditor_agent == ("/BNF/TREASURY SETTLEMENT",)
    assert t.instructions_for_next_agent == ("/REC/VALUE TODAY PLEASE",)
    back, _ = pacs009_to_mt202(xml)
    assert [tag for tag, _ in _fields(back)] == [tag for tag, _ in _fields(text)]
    validate_mt(parse_mt_file(back)[0])


def test_mt202cov_to_pacs009_keeps_the_underlying_customer() -> None:
    xml, _ = mt202_to_pacs009((DATA / "mt202cov.fin").read_text(), msg_id="M", created=CREATED)
    [t] = parse_pacs009(xml).transfers
    assert t.underlying is not None
    assert t.underlying.instructed_amount == Money(currency="USD", value=Decimal("15000.00"))
    back, _ = pacs009_to_mt202(xml)
    assert "{119:COV}" in back and ":59:/FR1420041010050500013M02606" in back


def test_mt202_without_uetr_stops() -> None:
    text = (
        (DATA / "mt202.fin")
        .read_text()
        .replace("{3:{121:0f1e2d3c-4b5a-4697-8877-665544332211}}", "")
    )
    with pytest.raises(TranslationStopped):
        mt202_to_pacs009(text, msg_id="M", created=CREATED)


def test_mt103_return_to_pacs004_and_back() -> None:
    text = (DATA / "mt103_retn.fin").read_text()
    xml, report = mt103_return_to_pacs004(text, msg_id="R1", created=CREATED)
    [r] = parse_pacs004(xml).returns
    assert (r.reason_code, r.original_instruction_id, r.original_end_to_end_id) == (
        "AC04",
        "INSTR-1",
        "E2E-2024-0001",
    )
    assert r.returned_amount == Money(currency="EUR", value=Decimal("1234.50"))
    assert {e.path for e in report.entries} >= {"/50K", "/59", "/72/RETN"}
    back, back_report = pacs004_to_mt103_return(xml)
    assert ":72:/RETN/99" in back.replace("\r\n", "\n")
    assert "/AC04/" in back and "/MREF/INSTR-1" in back
    assert any(e.code is LossCode.DEFAULTED for e in back_report.entries)


def test_mt103_without_retn_is_not_a_return() -> None:
    with pytest.raises(TranslationStopped):
        mt103_return_to_pacs004((DATA / "mt103.fin").read_text(), msg_id="R", created=CREATED)


def test_mt199_reject_to_pacs002_and_back() -> None:
    text = (DATA / "mt199_rejt.fin").read_text()
    xml, _ = mt199_to_pacs002(text, msg_id="S1", created=CREATED)
    [status] = parse_pacs002(xml)
    assert (status.status, status.reason_code, status.original_instruction_id) == (
        "RJCT",
        "AC01",
        "INSTR-1",
    )
    back, _ = pacs002_to_mt199(xml, sender_bic="BNPAFRPPXXX", receiver_bic="COBADEFFXXX")
    assert _fields(back)[2] == _fields(text)[2]  # the whole :79: survives


def test_pacs002_accepted_does_not_become_mt199_rejt() -> None:
    with pytest.raises(TranslationStopped):
        pacs002_to_mt199((DATA / "pacs002.xml").read_bytes(), sender_bic="A", receiver_bic="B")


def test_mt900_mt910_to_camt054_and_back() -> None:
    text = (DATA / "mt900.fin").read_text() + (DATA / "mt910.fin").read_text()
    xml, report = mt900_to_camt054(text, msg_id="N", created=CREATED)
    assert {e.path for e in report.entries} == {"/13D", "/52A"}
    back, _ = camt054_to_mt900(xml, sender_bic="CHASUS33XXX", receiver_bic="COBADEFFXXX")
    messages = parse_mt_file(back)
    assert [m.mt_type for m in messages] == ["900", "910"]
    assert messages[0].get("21").value == "FI-20240506-01"  # type: ignore[union-attr]
    assert messages[0].user_header["121"] == "0f1e2d3c-4b5a-4697-8877-665544332211"


def test_camt053_to_mt940_pages_with_intermediate_balances() -> None:
    data = (DATA / "camt053.xml").read_bytes()
    text, _ = camt053_to_mt940(data, sender_bic="UBSWCHZH80A", receiver_bic="COBADEFFXXX")
    one = parse_mt_file(text)
    entries = sum(len(m.all("61")) for m in one)
    paged, _ = camt053_to_mt940(
        data, sender_bic="UBSWCHZH80A", receiver_bic="COBADEFFXXX", max_entries=1
    )
    pages = parse_mt_file(paged)
    assert len(pages) == entries >= 2
    assert [p.get("28C").value.split("/")[1] for p in pages] == [  # type: ignore[union-attr]
        str(i) for i in range(1, entries + 1)
    ]
    assert pages[0].get("60F") and pages[0].get("62M")
    assert pages[-1].get("60M") and pages[-1].get("62F")
    statements = parse_mt_statements(paged)
    for before, after in itertools.pairwise(statements):
        assert before.closing_balance and after.opening_balance
        assert before.closing_balance.signed == after.opening_balance.signed


def test_camt053_to_mt940_without_bics_stops() -> None:
    with pytest.raises(TranslationStopped):
        camt053_to_mt940((DATA / "camt053.xml").read_bytes())


def test_pacs009_structural_check_reports_paths() -> None:
    message = parse_pacs009((DATA / "pacs009.xml").read_bytes())
    [t] = message.transfers
    from dataclasses import replace

    too_long = replace(t, instruction_id="X" * 36)
    with pytest.raises(SchemaInvalid) as err:
        build_pacs009([too_long], msg_id="M", created=CREATED)
    assert "InstrId" in err.value.errors[0].pointer


def test_pacs004_needs_original_reference() -> None:
    r = ReturnTx(
        return_id="R",
        returned_amount=Money(currency="EUR", value=Decimal("1.00")),
        settlement_date=dt.date(2024, 5, 6),
        reason_code="AC01",
    )
    with pytest.raises(SchemaInvalid):
        build_pacs004([r], msg_id="M", created=CREATED)


# --- the CLI -----------------------------------------------------------------------------


def _convert(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["convert", *argv])
    return int(args.handler(args))


@pytest.mark.parametrize(
    ("source", "target", "expected"),
    [
        ("mt202.fin", "pacs.009", 0),
        ("mt202cov.fin", "pacs.009", 0),
        ("pacs009.xml", "MT202", 0),
        ("mt103_retn.fin", "pacs.004", 1),
        ("pacs004.xml", "MT103", 1),
        ("mt199_rejt.fin", "pacs.002", 0),
        ("mt900.fin", "camt.054", 0),
        ("mt910.fin", "camt.054", 1),
        ("camt054.xml", "MT900", 1),
        ("camt053.xml", "MT940", 0),
        ("mt940.fin", "camt.053", 0),
        ("pacs008.xml", "camt.056", 0),
        ("pacs008.xml", "pacs.009", 2),
    ],
)
def test_convert_pairs(
    source: str, target: str, expected: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    argv = ["--to", target, str(DATA / source), "-o", str(out)]
    argv += ["--sender", "COBADEFFXXX", "--receiver", "BNPAFRPPXXX"]
    assert _convert(argv) == expected
    if expected < 2:
        data = out.read_bytes()
        if data.startswith(b"<"):
            read_iso(data)
        else:
            for m in parse_mt_file(data.decode()):
                validate_mt(m)


def test_convert_invalid_input_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.fin"
    bad.write_text("{1:F01COBADEFFAXXX0000000000}{2:I202CHASUS33AXXXN}{4:\n:20:X\n-}")
    assert _convert(["--to", "pacs.009", str(bad)]) == 2


def test_translation_errors_are_typed() -> None:
    for fn in (pacs009_to_mt202, pacs004_to_mt103_return):
        with pytest.raises(MessageError):
            fn(b"<Document/>")
