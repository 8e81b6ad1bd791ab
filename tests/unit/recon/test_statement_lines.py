"""Statements built with paygate.messages builders -> reconciliation lines -> matcher."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from paygate.errors import UnsupportedMessage
from paygate.messages.camt import build_camt053, build_camt054
from paygate.messages.mt.statement import build_mt940
from paygate.messages.statements import Balance, Statement, StatementEntry
from paygate.recon.gateway_records import to_records
from paygate.recon.matching import Tolerances, match
from paygate.recon.records import GatewayRecord
from paygate.recon.statement_lines import detect_and_parse, lines_from_statement

DAY = date(2026, 11, 24)
UETR = "3f2b8c1e-4d5a-4b6c-8d7e-9f0a1b2c3d4e"


def _statement(entries: list[StatementEntry]) -> Statement:
    total = sum((e.amount for e in entries), Decimal(0))
    return Statement(
        source="test",
        statement_id="STMT1",
        account="DE89370400440532013000",
        currency="EUR",
        sequence=1,
        opening_balance=Balance(Decimal("1000000"), "EUR", DAY, "CRDT", "OPBD"),
        closing_balance=Balance(Decimal("1000000") - total, "EUR", DAY, "CRDT", "CLBD"),
        entries=entries,
    )


def _payment(n: int, amount: str, **kw: object) -> StatementEntry:
    fields: dict[str, object] = {
        "amount": Decimal(amount),
        "currency": "EUR",
        "credit_debit": "DBIT",
        "booking_date": DAY,
        "value_date": DAY,
        "entry_ref": f"TX{n}",
        "account_servicer_ref": f"BANK{n}",
        "end_to_end_ids": (f"E2E{n}",),
        "tx_ids": (f"TX{n}",),
        "uetrs": (UETR,) if n == 1 else (),
        "transaction_code": "DMCT",
    }
    fields.update(kw)
    return StatementEntry(**fields)  # type: ignore[arg-type]


def _fee(n: int, amount: str) -> StatementEntry:
    return StatementEntry(
        amount=Decimal(amount),
        currency="EUR",
        credit_debit="DBIT",
        booking_date=DAY,
        value_date=DAY,
        entry_ref=f"TX{n}",
        account_servicer_ref=f"BANK{n}F",
        tx_ids=(f"TX{n}",),
        transaction_code="CHRG",
        details=f"FEE FOR TX{n}",
    )


def _batch() -> StatementEntry:
    return StatementEntry(
        amount=Decimal("30.00"),
        currency="EUR",
        credit_debit="DBIT",
        booking_date=DAY,
        value_date=DAY,
        entry_ref="MSG9",
        account_servicer_ref="BANK9B",
        end_to_end_ids=("E2E9A", "E2E9B", "E2E9C"),
        tx_ids=("TX9A", "TX9B", "TX9C"),
        batch_count=3,
        batch_total=Decimal("30.00"),
        transaction_code="DMCT",
    )


def _camt(entries: list[StatementEntry]) -> bytes:
    created = datetime(2026, 11, 24, 18, tzinfo=UTC)
    return build_camt053([_statement(entries)], msg_id="M1", created=created)


def test_camt053_payment_fee_and_batch_lines() -> None:
    data = _camt([_payment(1, "100.00"), _fee(1, "2.50"), _batch()])
    stmts = detect_and_parse(data)
    assert len(stmts) == 1
    lines = lines_from_statement(stmts[0], channel="rtgs", statement_id="S1")
    pay, fee, batch = lines
    assert (pay.tx_id, pay.end_to_end_id, pay.uetr) == ("TX1", "E2E1", UETR)
    assert (pay.amount, pay.currency, pay.credit_debit, pay.value_date) == (
        Decimal("100.00"),
        "EUR",
        "D",
        DAY,
    )
    assert pay.account_servicer_ref == "BANK1" and not pay.is_fee
    assert fee.is_fee and fee.amount == Decimal("2.50") and fee.tx_id is None
    assert batch.batch_count == 3 and batch.tx_id == "MSG9" and batch.end_to_end_id is None
    assert [ln.line_id for ln in lines] == ["S1#1", "S1#2", "S1#3"]
    assert len({ln.content_hash for ln in lines}) == 3


def test_camt054_notification_lines_are_the_statements_lines() -> None:
    entries = [_payment(1, "100.00"), _fee(1, "2.50"), _batch()]
    created = datetime(2026, 11, 24, 18, tzinfo=UTC)
    data = build_camt054([_statement(entries)], msg_id="N1", created=created)
    stmts = detect_and_parse(data)
    assert [s.source for s in stmts] == ["camt.054.001.08"]
    assert stmts[0].opening_balance is None and stmts[0].closing_balance is None
    as_notification = lines_from_statement(stmts[0], channel="rtgs", statement_id="S1")
    as_statement = lines_from_statement(
        detect_and_parse(_camt(entries))[0], channel="rtgs", statement_id="S1"
    )
    assert as_notification == as_statement


def test_other_iso_messages_are_not_statements() -> None:
    data = _camt([_payment(1, "1.00")]).replace(b"camt.053.001.08", b"pacs.002.001.10")
    with pytest.raises(UnsupportedMessage):
        detect_and_parse(data)


def test_mt940_lines_carry_txid_e2e_and_uetr() -> None:
    pay = _payment(1, "100.00", details="/EREF/E2E1 /TXID/TX1", end_to_end_ids=("TX1",))
    fee = _fee(1, "25.00")
    fee = StatementEntry(**{**fee.__dict__, "transaction_code": "NCHG", "tx_ids": ()})
    text = "".join(
        build_mt940(_statement([pay, fee]), sender_bic="DEUTDEFFXXX", receiver_bic="PAYGDEFFXXX")
    )
    stmts = detect_and_parse(text.encode())
    lines = [
        ln
        for s in stmts
        for ln in lines_from_statement(s, channel="swift", statement_id=s.statement_id)
    ]
    assert len(lines) == 2
    p, f = lines
    assert (p.tx_id, p.end_to_end_id, p.uetr) == ("TX1", "E2E1", UETR)
    assert p.account_servicer_ref == "BANK1" and p.amount == Decimal("100.00")
    assert f.is_fee and f.amount == Decimal("25.00")


def test_detect_rejects_other_content() -> None:
    with pytest.raises(UnsupportedMessage):
        detect_and_parse(b'{"not": "a statement"}')


def _rec(n: int, amount: str, status: str = "settled") -> GatewayRecord:
    return GatewayRecord(
        record_id=f"R{n}",
        channel="rtgs",
        reference=f"TX{n}",
        amount=Decimal(amount),
        currency="EUR",
        status=status,  # type: ignore[arg-type]
        value_date=DAY,
        end_to_end_id=f"E2E{n}",
    )


def test_matcher_on_adapted_lines_finds_the_breaks() -> None:
    entries = [
        _payment(1, "100.00"),
        _fee(1, "2.50"),
        _payment(2, "51.00"),  # gateway says 50.00
        _payment(3, "10.00"),
        _payment(3, "10.00", account_servicer_ref="BANK3D"),  # booked twice
        _payment(7, "9.99"),  # never sent
    ]
    stmt = detect_and_parse(_camt(entries))[0]
    lines = lines_from_statement(stmt, channel="rtgs", statement_id="S1")
    records = [_rec(1, "100.00"), _rec(2, "50.00"), _rec(3, "10.00"), _rec(4, "5.00")]
    result = match(records, lines, tolerances=Tolerances(), as_of=date(2026, 11, 30))
    kinds = sorted(b.kind.value for b in result.breaks)
    assert kinds == [
        "amount_mismatch",
        "duplicate_in_statement",
        "missing_in_gateway",
        "missing_in_statement",
    ]
    assert len(result.matches) == 2 and result.fee_lines == ["S1#2"]


def test_to_records_maps_status_and_groups_shared_references() -> None:
    created = datetime(2026, 11, 22, 23, tzinfo=UTC)
    row = {
        "id": "a",
        "status": "settled",
        "amount": Decimal("1.00"),
        "currency": "EUR",
        "end_to_end_id": "E",
        "instruction_id": None,
        "uetr": UETR,
        "channel": "batch",
        "channel_reference": "REF1",
        "created_at": created,
    }
    rows = [
        row,
        {**row, "id": "b", "channel_reference": "M1"},
        {**row, "id": "c", "channel_reference": "M1", "status": "cancelled"},
        {**row, "id": "d", "status": "routed"},
    ]
    recs = to_records(rows, "batch", DAY)
    assert [r.record_id for r in recs] == ["a", "b", "c"]
    assert recs[0].merge_id is None and recs[1].merge_id == recs[2].merge_id == "M1"
    assert recs[2].status == "failed" and all(r.value_date == DAY for r in recs)
    assert to_records([row], "batch")[0].value_date == created.date()
