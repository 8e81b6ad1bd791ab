"""The break taxonomy: what can disagree, how risky it is, and what we propose.

The system proposes; the operator confirms. A break's ``fingerprint`` is a hash of its
kind and the references it is about, so once resolved it is not raised again by a later
run over the same records and lines.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from paygate.recon.records import EXPECTED_ON_STATEMENT


class BreakKind(StrEnum):
    MISSING_IN_STATEMENT = "missing_in_statement"
    MISSING_IN_GATEWAY = "missing_in_gateway"
    AMOUNT_MISMATCH = "amount_mismatch"
    FEE_DEDUCTED = "fee_deducted"
    DUPLICATE_IN_STATEMENT = "duplicate_in_statement"
    STATUS_MISMATCH = "status_mismatch"
    VALUE_DATE_DIFFERENCE = "value_date_difference"
    CURRENCY_MISMATCH = "currency_mismatch"
    BALANCE_DISCONTINUITY = "balance_discontinuity"
    PARTIAL_MERGE = "partial_merge"
    # A line re-sent under the same statement id and position with different content.
    STATEMENT_CONFLICT = "statement_conflict"


class Grade(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Action(StrEnum):
    INQUIRE = "inquire"
    MARK_FAILED = "mark_failed"
    INVESTIGATE = "investigate"
    RETURN_BY_ORIGINAL_ROUTE = "return_by_original_route"
    FEE_POSTING = "fee_posting"
    CORRECT_STATUS = "correct_status"
    REVERSE = "reverse"
    SUPPLEMENTARY_POSTING = "supplementary_posting"
    CREDIT_ADJUSTMENT = "credit_adjustment"
    ACCEPT = "accept"


@dataclass(frozen=True, slots=True)
class Break:
    kind: BreakKind
    grade: Grade
    action: Action  # the proposal
    alternatives: tuple[Action, ...]  # what else the operator may reasonably choose
    channel: str
    record_ids: tuple[str, ...]
    line_ids: tuple[str, ...]
    currency: str | None
    expected: Decimal | None  # the gateway's amount (sum for a merge)
    actual: Decimal | None  # the statement's amount
    detail: str
    fingerprint: str
    # Ids named for context but accounted for elsewhere (the payment a duplicate line
    # repeats is accounted for by its match).
    related: tuple[str, ...] = ()


def fingerprint(
    kind: BreakKind,
    record_ids: tuple[str, ...],
    line_ids: tuple[str, ...],
    related: tuple[str, ...] = (),
) -> str:
    """Stable across runs: same kind about the same records and lines, same fingerprint."""
    digest = hashlib.blake2b(digest_size=12)
    digest.update(kind.value.encode())
    parts = ("R", *sorted(record_ids), "L", *sorted(line_ids), "X", *sorted(related))
    for part in parts:
        digest.update(b"\x1f" + part.encode())
    return digest.hexdigest()


def make_break(
    kind: BreakKind,
    *,
    channel: str,
    record_ids: tuple[str, ...] = (),
    line_ids: tuple[str, ...] = (),
    currency: str | None = None,
    expected: Decimal | None = None,
    actual: Decimal | None = None,
    detail: str = "",
    grade: Grade | None = None,
    action: Action | None = None,
    related: tuple[str, ...] = (),
) -> Break:
    default_grade, default_action, alternatives = POLICY[kind]
    return Break(
        kind=kind,
        grade=grade or default_grade,
        action=action or default_action,
        alternatives=alternatives,
        channel=channel,
        record_ids=record_ids,
        line_ids=line_ids,
        currency=currency,
        expected=expected,
        actual=actual,
        detail=detail,
        fingerprint=fingerprint(kind, record_ids, line_ids, related),
        related=related,
    )


A = Action
# kind -> (default grade, proposed action, alternatives). Grades that depend on the
# record (e.g. a settled payment missing on the rail) are set by the helpers below.
POLICY: dict[BreakKind, tuple[Grade, Action, tuple[Action, ...]]] = {
    BreakKind.MISSING_IN_STATEMENT: (Grade.MEDIUM, A.INQUIRE, (A.MARK_FAILED, A.REVERSE)),
    # Never auto-posted: money we cannot attribute is investigated or sent back.
    BreakKind.MISSING_IN_GATEWAY: (
        Grade.HIGH,
        A.INVESTIGATE,
        (A.RETURN_BY_ORIGINAL_ROUTE, A.SUPPLEMENTARY_POSTING),
    ),
    BreakKind.AMOUNT_MISMATCH: (
        Grade.HIGH,
        A.INVESTIGATE,
        (A.CREDIT_ADJUSTMENT, A.SUPPLEMENTARY_POSTING, A.REVERSE),
    ),
    BreakKind.FEE_DEDUCTED: (Grade.LOW, A.FEE_POSTING, (A.CREDIT_ADJUSTMENT, A.ACCEPT)),
    BreakKind.DUPLICATE_IN_STATEMENT: (
        Grade.HIGH,
        A.INVESTIGATE,
        (A.RETURN_BY_ORIGINAL_ROUTE, A.REVERSE),
    ),
    # We said failed and the rail paid: if we failed over, the payee may be paid twice.
    BreakKind.STATUS_MISMATCH: (Grade.HIGH, A.CORRECT_STATUS, (A.INQUIRE, A.REVERSE)),
    BreakKind.VALUE_DATE_DIFFERENCE: (Grade.LOW, A.ACCEPT, (A.CREDIT_ADJUSTMENT,)),
    BreakKind.CURRENCY_MISMATCH: (Grade.HIGH, A.INVESTIGATE, (A.REVERSE,)),
    BreakKind.BALANCE_DISCONTINUITY: (Grade.HIGH, A.INVESTIGATE, ()),
    BreakKind.PARTIAL_MERGE: (Grade.MEDIUM, A.INVESTIGATE, (A.SUPPLEMENTARY_POSTING, A.REVERSE)),
    # The rail changed what it said: the first version stays; the operator decides.
    BreakKind.STATEMENT_CONFLICT: (Grade.HIGH, A.INVESTIGATE, (A.ACCEPT,)),
}


def missing_in_statement(
    channel: str, record_id: str, status: str, currency: str, amount: Decimal
) -> Break:
    """A record the rail should show and does not, past its due date."""
    if status == "settled":
        # We told upstream it is done and the rail has nothing: highest risk.
        grade, action = Grade.HIGH, Action.INQUIRE
    elif status in EXPECTED_ON_STATEMENT:
        grade, action = Grade.MEDIUM, Action.INQUIRE
    else:
        # Outcome unknown and nothing arrived within the window: it did not happen.
        grade, action = Grade.LOW, Action.MARK_FAILED
    return make_break(
        BreakKind.MISSING_IN_STATEMENT,
        channel=channel,
        record_ids=(record_id,),
        currency=currency,
        expected=amount,
        detail=f"gateway status {status}; nothing on the statement",
        grade=grade,
        action=action,
    )


def missing_in_gateway(
    channel: str, line_id: str, credit_debit: str, currency: str, amount: Decimal
) -> Break:
    # An unattributed credit is someone else's money: send it back where it came from.
    action = Action.RETURN_BY_ORIGINAL_ROUTE if credit_debit == "C" else Action.INVESTIGATE
    return make_break(
        BreakKind.MISSING_IN_GATEWAY,
        channel=channel,
        line_ids=(line_id,),
        currency=currency,
        actual=amount,
        detail=f"{'credit' if credit_debit == 'C' else 'debit'} with no gateway record",
        action=action,
    )


def check_continuity(
    prev_closing: Decimal | None,
    opening: Decimal,
    *,
    channel: str = "",
    statement_id: str = "",
    currency: str | None = None,
) -> Break | None:
    """A statement's opening balance must equal the previous statement's closing balance.
    The first statement for an account (no previous) is taken as given."""
    if prev_closing is None or prev_closing == opening:
        return None
    return make_break(
        BreakKind.BALANCE_DISCONTINUITY,
        channel=channel,
        line_ids=(f"{statement_id}#opening",),
        currency=currency,
        expected=prev_closing,
        actual=opening,
        detail=f"opening balance {opening} does not continue previous closing {prev_closing}",
    )


def statement_conflict(
    channel: str,
    line_id: str,
    *,
    currency: str | None,
    stored_amount: Decimal | None,
    amount: Decimal,
    content_hash: str,
    detail: str,
) -> Break:
    """The rail re-sent line ``line_id`` with different content. The first import stands
    (it may already be matched); the new content is reported, never silently skipped. The
    new content's hash is part of the fingerprint: another version is another break."""
    return make_break(
        BreakKind.STATEMENT_CONFLICT,
        channel=channel,
        line_ids=(line_id,),
        currency=currency,
        expected=stored_amount,
        actual=amount,
        detail=detail,
        related=(content_hash,),
    )
