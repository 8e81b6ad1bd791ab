"""One scenario per break kind and per matching rule, each asserting the category, the
grade and action proposed, and that everything is accounted for exactly once."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from paygate.recon.breaks import Action, BreakKind, Grade, check_continuity
from paygate.recon.matching import MatchResult, Tolerances, match
from paygate.recon.records import GatewayRecord, StatementLine
from tests.unit.recon.recon_factories import AS_OF, OLD, TOL, line_for, loose_line, rec


def run(
    records: list[GatewayRecord],
    lines: list[StatementLine],
    tol: Tolerances = TOL,
    as_of: date = AS_OF,
    resolved: frozenset[str] = frozenset(),
) -> MatchResult:
    result = match(records, lines, tolerances=tol, as_of=as_of, already_resolved=resolved)
    recs, lns = result.accounting()
    assert set(recs) == {r.record_id for r in records}
    assert set(lns) == {ln.line_id for ln in lines}
    return result


def only_break(result: MatchResult) -> tuple[BreakKind, Grade, Action]:
    assert len(result.breaks) == 1, result.breaks
    b = result.breaks[0]
    return b.kind, b.grade, b.action


def test_clean_one_to_one_by_reference() -> None:
    records = [rec(i) for i in range(3)]
    result = run(records, [line_for(r) for r in records])
    assert not result.breaks
    assert [m.record_ids for m in result.matches] == [("P0",), ("P1",), ("P2",)]
    assert all(m.stage == 1 and m.kind == "1:1" for m in result.matches)


@pytest.mark.parametrize("via", ["uetr", "end_to_end_id", "instruction_id", "entry_ref"])
def test_secondary_references_find_the_record(via: str) -> None:
    r = rec(1, uetr="5f1b2b8e-9c1e-4b5e-8a3e-1d2c3b4a5f6e", instruction_id="INSTR1")
    base = line_for(r, tx_id=None, end_to_end_id=None, uetr=None, counterparty=None)
    line = {
        "uetr": replace(base, uetr=r.uetr.upper() if r.uetr else None),
        "end_to_end_id": replace(base, end_to_end_id="E2E1"),
        "instruction_id": replace(base, entry_ref="INSTR1"),
        "entry_ref": replace(base, entry_ref="TX1"),
    }[via]
    # A decoy with the same amount and date must not win over the reference.
    decoy = rec(2)
    result = run([r, decoy], [line])
    assert result.matches[0].record_ids == ("P1",)
    assert result.matches[0].stage == 1


def test_notprovided_end_to_end_id_identifies_nothing() -> None:
    a = rec(1, end_to_end_id="NOTPROVIDED", amount="10.00")
    b = rec(2, end_to_end_id="NOTPROVIDED", amount="20.00", counterparty="X")
    line = loose_line(1, "20.00", end_to_end_id="NOTPROVIDED", counterparty="X")
    result = run([a, b], [line])
    # Found by amount/date/counterparty in stage 2, not by the placeholder.
    assert [(m.record_ids, m.stage) for m in result.matches] == [(("P2",), 2)]


def test_merge_line_matches_all_items_one_to_n() -> None:
    items = [rec(i, amount="10.00", merge_id="M1", counterparty="PAYEE") for i in range(5)]
    line = loose_line(1, "50.00", tx_id="M1", batch_count=5, counterparty="PAYEE")
    result = run(items, [line])
    assert not result.breaks
    (m,) = result.matches
    assert m.kind == "1:N" and set(m.record_ids) == {f"P{i}" for i in range(5)}


def test_partial_merge_when_total_differs() -> None:
    items = [rec(i, amount="10.00", merge_id="M1") for i in range(5)]
    line = loose_line(1, "40.00", tx_id="M1")
    result = run(items, [line])
    kind, _, action = only_break(result)
    assert (kind, action) == (BreakKind.PARTIAL_MERGE, Action.INVESTIGATE)
    assert set(result.breaks[0].record_ids) == {f"P{i}" for i in range(5)}


def test_partial_merge_when_batch_count_differs() -> None:
    items = [rec(i, amount="10.00", merge_id="M1") for i in range(3)]
    line = loose_line(1, "30.00", tx_id="M1", batch_count=4)
    assert only_break(run(items, [line]))[0] is BreakKind.PARTIAL_MERGE


def test_missing_in_statement_only_after_due() -> None:
    due_soon = rec(1, value_date=date(2024, 3, 13))  # Wed; due Fri 15th
    overdue = rec(2, value_date=date(2024, 3, 12))  # Tue; due Thu 14th
    result = run([due_soon, overdue], [])
    assert result.pending == ["P1"]
    kind, grade, action = only_break(result)
    assert (kind, grade, action) == (BreakKind.MISSING_IN_STATEMENT, Grade.HIGH, Action.INQUIRE)


def test_missing_due_date_counts_business_days_and_holidays() -> None:
    r = rec(1, value_date=date(2024, 3, 8))  # Fri; +2 business days = Tue 12th
    assert run([r], [], as_of=date(2024, 3, 13)).breaks
    holiday = Tolerances(due_after_days=2, holidays=frozenset({date(2024, 3, 11)}))
    assert run([r], [], tol=holiday, as_of=date(2024, 3, 13)).pending == ["P1"]


def test_missing_unknown_outcome_proposes_mark_failed() -> None:
    result = run([rec(1, status="unknown")], [])
    assert only_break(result) == (BreakKind.MISSING_IN_STATEMENT, Grade.LOW, Action.MARK_FAILED)


def test_failed_record_absent_is_no_break() -> None:
    result = run([rec(1, status="failed"), rec(2, status="rejected")], [])
    assert not result.breaks and result.absent_as_expected == ["P1", "P2"]


@pytest.mark.parametrize(
    ("cd", "action"), [("D", Action.INVESTIGATE), ("C", Action.RETURN_BY_ORIGINAL_ROUTE)]
)
def test_missing_in_gateway(cd: str, action: Action) -> None:
    result = run([], [loose_line(9, "77.00", credit_debit=cd, tx_id="NOBODY")])
    assert only_break(result) == (BreakKind.MISSING_IN_GATEWAY, Grade.HIGH, action)


def test_fee_deducted_within_tolerance() -> None:
    r = rec(1, amount="1000.00")
    result = run([r], [line_for(r, amount=Decimal("995.00"))])
    assert only_break(result) == (BreakKind.FEE_DEDUCTED, Grade.LOW, Action.FEE_POSTING)
    assert result.breaks[0].expected - result.breaks[0].actual == Decimal("5.00")


@pytest.mark.parametrize("amount", ["985.00", "1000.01"])
def test_amount_mismatch_beyond_tolerance_or_more(amount: str) -> None:
    r = rec(1, amount="1000.00")
    result = run([r], [line_for(r, amount=Decimal(amount))])
    assert only_break(result)[0] is BreakKind.AMOUNT_MISMATCH


def test_duplicate_in_statement() -> None:
    r = rec(1)
    first = line_for(r, seq=1)
    second = line_for(r, seq=2)
    result = run([r], [first, second])
    assert [m.line_id for m in result.matches] == ["S1#1"]
    assert only_break(result)[0] is BreakKind.DUPLICATE_IN_STATEMENT
    assert result.breaks[0].line_ids == ("S1#2",) and result.breaks[0].related == ("P1",)


def test_duplicate_keeps_the_better_line_not_the_first() -> None:
    r = rec(1, amount="100.00")
    worse = line_for(r, seq=1, amount=Decimal("99.50"))
    exact = line_for(r, seq=2)
    result = run([r], [worse, exact])
    assert [m.line_id for m in result.matches] == ["S1#2"]
    assert result.breaks[0].line_ids == ("S1#1",)


@pytest.mark.parametrize(
    ("status", "grade"),
    [("failed", Grade.HIGH), ("rejected", Grade.HIGH), ("unknown", Grade.MEDIUM)],
)
def test_status_mismatch_rail_settled(status: str, grade: Grade) -> None:
    r = rec(1, status=status)
    result = run([r], [line_for(r)])
    assert only_break(result) == (BreakKind.STATUS_MISMATCH, grade, Action.CORRECT_STATUS)


def test_value_date_difference() -> None:
    r = rec(1)
    result = run([r], [line_for(r, value_date=date(2024, 3, 4))])
    assert only_break(result) == (BreakKind.VALUE_DATE_DIFFERENCE, Grade.LOW, Action.ACCEPT)


def test_currency_mismatch() -> None:
    r = rec(1)
    result = run([r], [line_for(r, currency="USD")])
    assert only_break(result)[0] is BreakKind.CURRENCY_MISMATCH


def test_fee_lines_are_accounted_not_broken() -> None:
    r = rec(1)
    fee = loose_line(50, "2.50", is_fee=True)
    result = run([r], [line_for(r), fee])
    assert not result.breaks and result.fee_lines == ["S1#50"]


def test_stage2_scores_candidates_instead_of_first_wins() -> None:
    # Same amount; only the second agrees on date and counterparty.
    far = rec(1, value_date=date(2024, 2, 28), counterparty=None)
    near = rec(2, value_date=OLD, counterparty="ACME")
    line = loose_line(1, "100.00", counterparty="ACME")
    result = run([far, near], [line])
    assert [(m.record_ids, m.stage) for m in result.matches] == [(("P2",), 2)]
    assert result.breaks[0].record_ids == ("P1",)


def test_stage2_respects_date_window_and_counterparty() -> None:
    r = rec(1, counterparty="ACME")
    out_of_window = loose_line(1, "100.00", value_date=date(2024, 3, 8))
    other_payee = loose_line(2, "100.00", counterparty="OTHER")
    result = run([r], [out_of_window, other_payee])
    assert not result.matches
    assert sorted(b.kind for b in result.breaks) == [
        BreakKind.MISSING_IN_GATEWAY,
        BreakKind.MISSING_IN_GATEWAY,
        BreakKind.MISSING_IN_STATEMENT,
    ]


def test_stage2_fee_deducted_match() -> None:
    r = rec(1, amount="500.00", counterparty="ACME")
    result = run([r], [loose_line(1, "497.00", counterparty="ACME")])
    assert only_break(result)[0] is BreakKind.FEE_DEDUCTED


def test_resolved_break_is_not_raised_again() -> None:
    r = rec(1)
    first = run([r], [])
    fp = first.breaks[0].fingerprint
    again = run([r], [], resolved=frozenset({fp}))
    assert not again.breaks and [b.fingerprint for b in again.suppressed] == [fp]
    # A different problem with the same record is a new break.
    other = run([r], [line_for(r, amount=Decimal("50.00"))], resolved=frozenset({fp}))
    assert other.breaks[0].kind is BreakKind.AMOUNT_MISMATCH


def test_fingerprint_is_stable_across_runs_and_input_order() -> None:
    records = [rec(i) for i in range(4)]
    lines = [line_for(r, amount=Decimal("1.00")) for r in records]
    a = run(records, lines)
    b = run(records[::-1], lines[::-1])
    assert sorted(x.fingerprint for x in a.breaks) == sorted(x.fingerprint for x in b.breaks)


def test_channels_are_reconciled_separately() -> None:
    r = rec(1, channel="instant")
    line = line_for(r, channel="batch")
    result = run([r], [line])
    assert sorted(b.kind for b in result.breaks) == [
        BreakKind.MISSING_IN_GATEWAY,
        BreakKind.MISSING_IN_STATEMENT,
    ]


def test_counters_add_up() -> None:
    records = [rec(i) for i in range(6)] + [rec(9, value_date=AS_OF)]
    lines = [line_for(r) for r in records[:5]] + [loose_line(99, "1.23", tx_id="??")]
    c = run(records, lines).counters
    assert c["matched_records"] + c["breaks"] - c["break.missing_in_gateway"] + c["pending"] == 7
    assert c["matched_lines"] + c["break.missing_in_gateway"] == 6


@pytest.mark.parametrize(
    ("prev", "opening", "broken"),
    [(None, "5.00", False), ("5.00", "5.00", False), ("5.00", "5.01", True)],
)
def test_check_continuity(prev: str | None, opening: str, broken: bool) -> None:
    b = check_continuity(Decimal(prev) if prev else None, Decimal(opening), statement_id="S2")
    assert (b is not None) is broken
    if b:
        assert b.kind is BreakKind.BALANCE_DISCONTINUITY and b.grade is Grade.HIGH
