"""The matcher: gateway records against statement lines, pure and set-based.

Per channel, in two stages:

1. **References.** Dict indexes over the records (channel reference/TxId, merge id,
   and on demand UETR, EndToEndId, InstrId). A line that names a merge id matches the
   whole merged group (1:N) — looked up, never searched for as a subset sum.
2. **Amount + value date + counterparty** for what stage 1 left, within tolerances.

Candidates are scored and assigned greedily best-first, each record and line used at
most once. Every matched pair is then checked (currency, status, amount, batch, value
date) and becomes either a clean ``Match`` or a ``Break``. Every record and every line
ends in exactly one disposition; ``MatchResult.accounting()`` says which.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from paygate.recon.breaks import (
    Break,
    BreakKind,
    Grade,
    make_break,
    missing_in_gateway,
    missing_in_statement,
)
from paygate.recon.business_days import BusinessCalendar
from paygate.recon.records import (
    EXPECTED_ON_STATEMENT,
    NOT_EXPECTED_ON_STATEMENT,
    NOT_PROVIDED,
    GatewayRecord,
    StatementLine,
)

ZERO = Decimal(0)
# Reference agreement dominates: any stage-1 pair outscores any stage-2 pair.
REF_WEIGHT = 10.0
_CLEAN_STATUSES = EXPECTED_ON_STATEMENT


class Tolerances(BaseModel):
    """Operator-tunable matching tolerances (loaded from config, validated here)."""

    model_config = ConfigDict(frozen=True)

    date_window_days: int = Field(2, ge=0, description="stage-2 value-date window, business days")
    due_after_days: int = Field(
        2, ge=0, description="a record is missing only after value date + N business days"
    )
    # A silent shortfall is not assumed to be a fee by default: a rail that deducts its
    # charges from the amount without saying so is configured with fee_abs / fee_pct.
    # Otherwise a 0.01 shortfall (a keying error) would be posted as a fee.
    fee_abs: Decimal = Field(Decimal("0"), ge=0, description="fee deduction tolerated, absolute")
    fee_pct: Decimal = Field(
        Decimal("0"), ge=0, lt=1, description="fee deduction tolerated, share of the amount"
    )
    # A charge the statement itself declares inside a line's amount (camt Chrgs with
    # ChrgInclInd, MT940 /CHGS/) is a fee when it explains the difference exactly. The
    # simulated rails plant 1.50 to 12.00; real correspondent charges stay well under 50.
    stated_charge_max: Decimal = Field(
        Decimal("50.00"), ge=0, description="largest declared charge posted as a fee"
    )
    holidays: frozenset[date] = frozenset()
    max_candidates: int = Field(32, ge=1, description="stage-2 candidates examined per line")

    def fee_tolerance(self, amount: Decimal) -> Decimal:
        pct = amount * self.fee_pct if self.fee_pct else ZERO
        return max(self.fee_abs, pct)


MatchKind = Literal["1:1", "1:N"]


@dataclass(frozen=True, slots=True)
class Match:
    channel: str
    line_id: str
    record_ids: tuple[str, ...]
    kind: MatchKind
    score: float
    stage: int


@dataclass(slots=True)
class MatchResult:
    matches: list[Match] = field(default_factory=list)
    breaks: list[Break] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)  # record ids not yet due
    # Rejected/failed records the rail rightly does not show.
    absent_as_expected: list[str] = field(default_factory=list)
    fee_lines: list[str] = field(default_factory=list)  # charge entries, posted as fees
    # Breaks raised again whose fingerprint the operator already resolved.
    suppressed: list[Break] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)

    def accounting(self) -> tuple[dict[str, str], dict[str, str]]:
        """(record id -> disposition, line id -> disposition). Raises ``ValueError`` if
        anything is accounted for twice: that would be a matcher bug."""
        recs: dict[str, str] = {}
        lines: dict[str, str] = {}

        def put(book: dict[str, str], key: str, what: str) -> None:
            if key in book:
                raise ValueError(f"{key} accounted twice: {book[key]} and {what}")
            book[key] = what

        for m in self.matches:
            put(lines, m.line_id, "matched")
            for r in m.record_ids:
                put(recs, r, "matched")
        for label, group in (("break", self.breaks), ("resolved", self.suppressed)):
            for b in group:
                for r in b.record_ids:
                    put(recs, r, f"{label}:{b.kind}")
                for ln in b.line_ids:
                    put(lines, ln, f"{label}:{b.kind}")
        for r in self.pending:
            put(recs, r, "pending")
        for r in self.absent_as_expected:
            put(recs, r, "absent_as_expected")
        for ln in self.fee_lines:
            put(lines, ln, "fee")
        return recs, lines


@dataclass(eq=False, slots=True)
class _Group:
    """The items of one merged payment, matched as one (1:N)."""

    merge_id: str
    records: list[GatewayRecord]
    amount: Decimal = ZERO
    currency: str = ""
    value_date: date = date.min
    counterparty: str | None = None


_Target = GatewayRecord | _Group


def _record_ids(target: _Target) -> tuple[str, ...]:
    if isinstance(target, GatewayRecord):
        return (target.record_id,)
    return tuple(r.record_id for r in target.records)


def _key(target: _Target) -> str | _Group:
    # Record ids and group objects never compare equal, so one dict serves both.
    return target.record_id if isinstance(target, GatewayRecord) else target


def _put(index: dict[str, object], key: str | None, rec: GatewayRecord) -> None:
    """Index holding a record, or a list when a key is shared (rare, so no list by
    default: a million one-element lists would cost more than the records)."""
    if not key or key == NOT_PROVIDED:
        return
    held = index.get(key)
    if held is None:
        index[key] = rec
    elif isinstance(held, list):
        held.append(rec)
    else:
        index[key] = [held, rec]


def _add(found: list[_Target], held: object) -> None:
    """Append what an index holds (record, group or list of records), once each."""
    if held is None:
        return
    for t in held if isinstance(held, list) else (held,):
        assert isinstance(t, GatewayRecord | _Group)
        for f in found:
            if f is t:
                break
        else:
            found.append(t)


def _ref_points(line: StatementLine, target: _Target) -> int:
    """Agreement of the references both sides carry; a disagreement counts against."""
    if isinstance(target, _Group):
        mid = target.merge_id
        agree = mid in (line.tx_id, line.entry_ref, line.account_servicer_ref, line.end_to_end_id)
        return 3 if agree else 0
    points = 0
    ref = target.reference
    if ref == line.tx_id or ref == line.entry_ref or ref == line.account_servicer_ref:
        points += 3
    if line.uetr and target.uetr:
        points += 4 if line.uetr.lower() == target.uetr.lower() else -4
    e2e = line.end_to_end_id
    if e2e and e2e != NOT_PROVIDED and target.end_to_end_id:
        points += 3 if e2e == target.end_to_end_id else -3
    instr = target.instruction_id
    if instr and (instr == line.entry_ref or instr == line.tx_id):
        points += 2
    return points


class _Matcher:
    """One channel's run. State lives here only for the duration of ``run``."""

    def __init__(
        self,
        channel: str,
        records: list[GatewayRecord],
        lines: list[StatementLine],
        tol: Tolerances,
        cal: BusinessCalendar,
        as_of: date,
        out: MatchResult,
        charges: Mapping[str, Decimal],
    ) -> None:
        self.channel = channel
        self.charges = charges
        self.records = records
        self.lines = lines
        self.tol = tol
        self.cal = cal
        self.as_of = as_of
        self.out = out
        self.by_ref: dict[str, object] = {}
        self.groups: dict[str, _Group] = {}
        self.secondary: dict[str, dict[str, object]] | None = None
        # key -> number of lines claiming it; -1 once assigned.
        self.claims: dict[str | _Group, int] = {}
        self.scores: dict[float, float] = {}

    # --- indexes -------------------------------------------------------------------

    def _build_primary(self) -> None:
        by_ref = self.by_ref
        groups = self.groups
        for rec in self.records:
            mid = rec.merge_id
            if mid:
                g = groups.get(mid)
                if g is None:
                    g = groups[mid] = _Group(mid, [])
                g.records.append(rec)
            else:
                _put(by_ref, rec.reference, rec)
        for g in groups.values():
            first = g.records[0]
            g.amount = sum((r.amount for r in g.records), ZERO)
            g.currency = first.currency
            g.value_date = max(r.value_date for r in g.records)
            g.counterparty = first.counterparty

    def _build_secondary(self, lines: list[StatementLine]) -> None:
        """UETR / EndToEndId / InstrId indexes, holding only the keys that ``lines`` (the
        ones their channel reference did not find) ask for: three full million-entry
        dicts would double the matcher's footprint to serve a handful of lines."""
        wanted: set[str] = set()
        for line in lines:
            for ref in (line.uetr.lower() if line.uetr else None, line.end_to_end_id):
                if ref and ref != NOT_PROVIDED:
                    wanted.add(ref)
            wanted.update(r for r in (line.entry_ref, line.tx_id) if r)
        uetr: dict[str, object] = {}
        e2e: dict[str, object] = {}
        instr: dict[str, object] = {}
        if wanted:
            for rec in self.records:
                if rec.merge_id:
                    continue
                u = rec.uetr.lower() if rec.uetr else None
                if u in wanted:
                    _put(uetr, u, rec)
                if rec.end_to_end_id in wanted:
                    _put(e2e, rec.end_to_end_id, rec)
                if rec.instruction_id in wanted:
                    _put(instr, rec.instruction_id, rec)
        self.secondary = {"uetr": uetr, "e2e": e2e, "instr": instr}

    def _find(self, line: StatementLine) -> _Target | list[_Target] | None:
        """The targets a line's references name: one target, a list, or None. (No list
        for the common single hit: a million short-lived lists cost real time.)"""
        groups = self.groups
        by_ref = self.by_ref
        found: list[_Target] = []
        for ref in (line.tx_id, line.entry_ref, line.account_servicer_ref, line.end_to_end_id):
            if not ref:
                continue
            if groups:
                g = groups.get(ref)
                if g is not None:
                    _add(found, g)
            held = by_ref.get(ref)
            if held is not None:
                _add(found, held)
        sec = self.secondary
        if not found and sec is not None:
            if line.uetr:
                _add(found, sec["uetr"].get(line.uetr.lower()))
            if line.end_to_end_id and line.end_to_end_id != NOT_PROVIDED:
                _add(found, sec["e2e"].get(line.end_to_end_id))
            for ref in (line.entry_ref, line.tx_id):
                if ref:
                    _add(found, sec["instr"].get(ref))
        if len(found) == 1:
            only = found[0]
            return only if _ref_points(line, only) > 0 else None
        kept = [t for t in found if _ref_points(line, t) > 0]
        return kept[0] if len(kept) == 1 else (kept or None)

    # --- scoring -------------------------------------------------------------------

    def _fine_score(self, line: StatementLine, target: _Target) -> float:
        diff = target.amount - line.amount
        if diff == 0:
            amount_pts = 3.0
        else:
            tol = self.tol.fee_tolerance(target.amount)
            amount_pts = 2.0 - float(diff / tol) if tol and ZERO < diff <= tol else 0.0
        if line.value_date == target.value_date:
            date_pts = 2.0
        else:
            days = self.cal.difference(line.value_date, target.value_date)
            date_pts = max(0.0, 2.0 - 0.5 * days)
        cp_pts = 0.0
        if line.counterparty and target.counterparty:
            cp_pts = 1.0 if line.counterparty == target.counterparty else -2.0
        return amount_pts + date_pts + cp_pts

    def _score(self, line: StatementLine, target: _Target) -> float:
        return REF_WEIGHT * _ref_points(line, target) + self._fine_score(line, target)

    # --- outcome of a pair ---------------------------------------------------------

    def _settle_pair(self, line: StatementLine, target: _Target, score: float, stage: int) -> None:
        if (
            isinstance(target, GatewayRecord)
            and target.amount == line.amount
            and target.value_date == line.value_date
            and target.currency == line.currency
            and target.status in _CLEAN_STATUSES
        ):
            # The common case, decided without building anything. Clean matches share a
            # handful of scores, so they share the float objects too.
            rounded = round(score, 3)
            rounded = self.scores.setdefault(rounded, rounded)
            self.out.matches.append(
                Match(self.channel, line.line_id, (target.record_id,), "1:1", rounded, stage)
            )
            return
        ids = _record_ids(target)
        is_group = isinstance(target, _Group)

        def brk(kind: BreakKind, detail: str, grade: Grade | None = None) -> None:
            self.out.breaks.append(
                make_break(
                    kind,
                    channel=self.channel,
                    record_ids=ids,
                    line_ids=(line.line_id,),
                    currency=target.currency,
                    expected=target.amount,
                    actual=line.amount,
                    detail=detail,
                    grade=grade,
                )
            )

        if line.currency != target.currency:
            brk(BreakKind.CURRENCY_MISMATCH, f"gateway {target.currency}, rail {line.currency}")
            return
        statuses = (
            {r.status for r in target.records} if isinstance(target, _Group) else {target.status}
        )
        wrong = statuses & (NOT_EXPECTED_ON_STATEMENT | {"unknown"})
        if wrong:
            # A lost response the rail settled is less alarming than a payment we
            # declared failed (and may have re-sent elsewhere).
            grade = Grade.MEDIUM if wrong == {"unknown"} else Grade.HIGH
            brk(
                BreakKind.STATUS_MISMATCH, f"gateway {'/'.join(sorted(wrong))}, rail settled", grade
            )
            return
        if (
            isinstance(target, _Group)
            and line.batch_count is not None
            and line.batch_count != len(target.records)
        ):
            brk(
                BreakKind.PARTIAL_MERGE,
                f"rail booked {line.batch_count} items, gateway merged {len(target.records)}, "
                f"amounts {line.amount} vs {target.amount}",
            )
            return
        diff = target.amount - line.amount
        if diff:
            tol = self.tol.fee_tolerance(target.amount)
            # A shortfall of exactly one item's amount is a missing item, not a fee.
            item_missing = isinstance(target, _Group) and any(
                r.amount == diff for r in target.records
            )
            stated = self.charges.get(line.line_id)
            if ZERO < diff <= tol and not item_missing:
                brk(BreakKind.FEE_DEDUCTED, f"rail deducted {diff} {line.currency}")
            elif stated is not None and -diff == stated <= self.tol.stated_charge_max:
                # The rail debited amount + a charge it names: the payment went out whole.
                brk(
                    BreakKind.FEE_DEDUCTED,
                    f"rail charged {stated} {line.currency} inside the line's amount",
                )
            elif is_group:
                brk(BreakKind.PARTIAL_MERGE, f"merge line {line.amount} vs items {target.amount}")
            else:
                brk(BreakKind.AMOUNT_MISMATCH, f"rail {line.amount} vs gateway {target.amount}")
            return
        if line.value_date != target.value_date:
            brk(
                BreakKind.VALUE_DATE_DIFFERENCE,
                f"rail value date {line.value_date}, gateway {target.value_date}",
            )
            return
        kind: MatchKind = "1:N" if is_group else "1:1"
        self.out.matches.append(
            Match(self.channel, line.line_id, ids, kind, round(score, 3), stage)
        )

    # --- stages --------------------------------------------------------------------

    def _assign(
        self,
        lines: list[StatementLine],
        candidates: list[_Target | list[_Target]],
        stage: int,
    ) -> list[StatementLine]:
        """Greedy best-first assignment of ``lines[i]`` to one of ``candidates[i]``.
        Returns the lines that lost every candidate to better-scoring lines."""
        claims = self.claims
        for held in candidates:
            for t in held if isinstance(held, list) else (held,):
                k = _key(t)
                claims[k] = claims.get(k, 0) + 1
        contested: list[tuple[float, int, str, StatementLine, _Target]] = []
        settle = self._settle_pair
        score = self._score
        for order, (line, held) in enumerate(zip(lines, candidates, strict=True)):
            if not isinstance(held, list):
                k = _key(held)
                if claims[k] == 1:
                    # Nobody else wants this target and this line wants nothing else:
                    # greedy order cannot change the outcome, so skip the sort.
                    claims[k] = -1
                    settle(line, held, score(line, held), stage)
                    continue
            for t in held if isinstance(held, list) else (held,):
                contested.append((-score(line, t), order, _record_ids(t)[0], line, t))
        contested.sort(key=lambda c: (c[0], c[1], c[2]))
        done_lines: set[str] = set()
        for neg_score, _, _, line, t in contested:
            k = _key(t)
            if line.line_id in done_lines or claims[k] == -1:
                continue
            claims[k] = -1
            done_lines.add(line.line_id)
            settle(line, t, -neg_score, stage)
        losers: list[StatementLine] = []
        seen: set[str] = set()
        for _, _, _, line, _ in contested:
            if line.line_id not in done_lines and line.line_id not in seen:
                seen.add(line.line_id)
                losers.append(line)
        return losers

    def run(self) -> None:
        out = self.out
        payments: list[StatementLine] = []
        for line in self.lines:
            if line.is_fee:
                out.fee_lines.append(line.line_id)
            else:
                payments.append(line)
        self._build_primary()

        # Stage 1: references.
        found_lines: list[StatementLine] = []
        found: list[_Target | list[_Target]] = []
        unreferenced: list[StatementLine] = []
        find = self._find
        deferred: list[StatementLine] = []
        for line in payments:
            targets = find(line)
            if targets is None:
                deferred.append(line)
            else:
                found_lines.append(line)
                found.append(targets)
        # Second look, by UETR / EndToEndId / InstrId, for lines the primary missed.
        self._build_secondary(deferred)
        for line in deferred:
            targets = find(line)
            if targets is None:
                unreferenced.append(line)
            else:
                found_lines.append(line)
                found.append(targets)
        del deferred
        for line in self._assign(found_lines, found, 1):
            # It named a payment another line already took.
            held = find(line)
            options = held if isinstance(held, list) else [held] if held is not None else []
            best = max(options, key=lambda t: self._score(line, t))
            out.breaks.append(
                make_break(
                    BreakKind.DUPLICATE_IN_STATEMENT,
                    channel=self.channel,
                    line_ids=(line.line_id,),
                    currency=line.currency,
                    expected=best.amount,
                    actual=line.amount,
                    detail="names payment(s) already matched: " + ", ".join(_record_ids(best)),
                    related=_record_ids(best),
                )
            )
        del found, found_lines

        # Stage 2: amount + value date + counterparty over what is left.
        claims = self.claims
        unmatched = unreferenced
        if unreferenced:
            left = [r for r in self.records if not r.merge_id and claims.get(r.record_id, 0) != -1]
            unmatched = self._stage2(unreferenced, left) if left else unreferenced
        for line in unmatched:
            out.breaks.append(
                missing_in_gateway(
                    self.channel, line.line_id, line.credit_debit, line.currency, line.amount
                )
            )

        # What the rail never showed.
        for rec in self.records:
            if not rec.merge_id and claims.get(rec.record_id, 0) != -1:
                self._absent((rec.record_id,), rec.status, rec.value_date, rec.currency, rec.amount)
        for g in self.groups.values():
            if claims.get(g, 0) != -1:
                statuses = {r.status for r in g.records}
                status = statuses.pop() if len(statuses) == 1 else "submitted"
                self._absent(_record_ids(g), status, g.value_date, g.currency, g.amount)

    def _stage2(
        self, lines: list[StatementLine], records: list[GatewayRecord]
    ) -> list[StatementLine]:
        by_ccy: dict[str, list[GatewayRecord]] = defaultdict(list)
        for rec in records:
            by_ccy[rec.currency].append(rec)
        sorted_amounts: dict[str, list[Decimal]] = {}
        for ccy, recs in by_ccy.items():
            recs.sort(key=lambda r: (r.amount, r.record_id))
            sorted_amounts[ccy] = [r.amount for r in recs]
        window = self.tol.date_window_days
        found_lines: list[StatementLine] = []
        found: list[_Target | list[_Target]] = []
        unmatched: list[StatementLine] = []
        for line in lines:
            recs = by_ccy.get(line.currency, [])
            amounts = sorted_amounts.get(line.currency, [])
            # A fee only ever makes the line smaller than the record.
            i = bisect_left(amounts, line.amount)
            targets: list[_Target] = []
            examined = 0
            while i < len(recs) and examined < self.tol.max_candidates:
                rec = recs[i]
                i += 1
                diff = rec.amount - line.amount
                if diff and diff > self.tol.fee_tolerance(rec.amount):
                    # diff grows faster than the tolerance (fee_pct < 1): none further fit.
                    break
                examined += 1
                if self.cal.difference(line.value_date, rec.value_date) > window:
                    continue
                if line.counterparty and rec.counterparty and line.counterparty != rec.counterparty:
                    continue
                targets.append(rec)
            if targets:
                found_lines.append(line)
                found.append(targets[0] if len(targets) == 1 else targets)
            else:
                unmatched.append(line)
        for line in self._assign(found_lines, found, 2):
            unmatched.append(line)
        return unmatched

    def _absent(
        self,
        record_ids: tuple[str, ...],
        status: str,
        value_date: date,
        currency: str,
        amount: Decimal,
    ) -> None:
        out = self.out
        if status in NOT_EXPECTED_ON_STATEMENT:
            out.absent_as_expected.extend(record_ids)
            return
        due = self.cal.add(value_date, self.tol.due_after_days)
        if self.as_of <= due:
            out.pending.extend(record_ids)
            return
        brk = missing_in_statement(self.channel, record_ids[0], status, currency, amount)
        if len(record_ids) > 1:
            brk = make_break(
                brk.kind,
                channel=brk.channel,
                record_ids=record_ids,
                currency=currency,
                expected=amount,
                detail=f"merged payment ({len(record_ids)} items): {brk.detail}",
                grade=brk.grade,
                action=brk.action,
            )
        out.breaks.append(brk)


_Item = TypeVar("_Item", GatewayRecord, StatementLine)


def _by_channel(items: Iterable[_Item]) -> dict[str, list[_Item]]:
    grouped: dict[str, list[_Item]] = defaultdict(list)
    for item in items:
        grouped[item.channel].append(item)
    return grouped


def match(
    records: Sequence[GatewayRecord],
    lines: Sequence[StatementLine],
    *,
    tolerances: Tolerances,
    as_of: date,
    already_resolved: Set[str] = frozenset(),
    charges: Mapping[str, Decimal] | None = None,
) -> MatchResult:
    """Reconcile ``records`` against ``lines``; pure and deterministic for equal inputs.

    ``charges`` maps a line id to the charge its statement declares included in the
    line's amount; such a difference is a fee, not an amount mismatch."""
    cal = BusinessCalendar(tolerances.holidays)
    out = MatchResult()
    recs_by = _by_channel(records)
    lines_by = _by_channel(lines)
    for channel in sorted(recs_by.keys() | lines_by.keys()):
        _Matcher(
            channel,
            recs_by.get(channel, []),
            lines_by.get(channel, []),
            tolerances,
            cal,
            as_of,
            out,
            charges or {},
        ).run()
    if already_resolved:
        kept: list[Break] = []
        for b in out.breaks:
            (out.suppressed if b.fingerprint in already_resolved else kept).append(b)
        out.breaks = kept
    c = out.counters
    c["records"] = len(records)
    c["lines"] = len(lines)
    c["matched_lines"] = len(out.matches)
    c["matched_records"] = sum(len(m.record_ids) for m in out.matches)
    c["matched_1_n"] = sum(1 for m in out.matches if m.kind == "1:N")
    c["matched_stage2"] = sum(1 for m in out.matches if m.stage == 2)
    c["breaks"] = len(out.breaks)
    c["pending"] = len(out.pending)
    c["absent_as_expected"] = len(out.absent_as_expected)
    c["fee_lines"] = len(out.fee_lines)
    c["suppressed"] = len(out.suppressed)
    for b in out.breaks:
        key = f"break.{b.kind}"
        c[key] = c.get(key, 0) + 1
    return out
