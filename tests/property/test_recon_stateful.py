"""Stateful property test of the matcher over random histories.

Each rule adds one *case* — a payment, a merged payment, or a planted discrepancy — with
the records the gateway holds and the lines the rail will print. Lines reach the
reconciliation only when a statement is imported, so every case also knows what it
should look like before its lines arrive. After every step the whole book is matched and:

* every record and every line is accounted for exactly once;
* every case ends exactly as planted (right break category, nothing else: no false breaks);
* re-importing a statement adds nothing; a resolved break is not raised again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from paygate.recon.matching import MatchResult, Tolerances, match
from paygate.recon.records import GatewayRecord, StatementLine, content_hash
from paygate.recon.statement_book import StatementBook

AS_OF = date(2024, 3, 15)  # Friday
OLD_DATES = [date(2024, 3, d) for d in (4, 5, 6, 7, 8)]  # all overdue at AS_OF
TOL = Tolerances(
    date_window_days=2, due_after_days=2, fee_abs=Decimal("0"), fee_pct=Decimal("0.01")
)
CHANNELS = st.sampled_from(["rtgs", "swift"])
CENTS = st.integers(min_value=1_000, max_value=10_000_000)


@dataclass
class Case:
    # disposition per id once its lines are imported, and before
    visible: dict[str, str]
    hidden: dict[str, str]
    lines: list[StatementLine] = field(default_factory=list)
    # cases whose two lines are interchangeable (a duplicate): compare as a multiset
    unordered_lines: bool = False


class ReconMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.n = 0
        self.records: list[GatewayRecord] = []
        self.cases: list[Case] = []
        self.buffer: list[StatementLine] = []
        self.imported: list[list[StatementLine]] = []
        self.book = StatementBook()
        self.resolved: set[str] = set()
        self.last: MatchResult | None = None

    # --- builders -------------------------------------------------------------

    def _next(self) -> int:
        self.n += 1
        return self.n

    def _record(self, channel: str, cents: int, day: date, **kw: object) -> GatewayRecord:
        n = self._next()
        fields: dict[str, object] = {
            "record_id": f"P{n}",
            "channel": channel,
            "reference": f"TX{n}",
            "amount": Decimal(cents).scaleb(-2),
            "currency": "EUR",
            "status": "settled",
            "value_date": day,
            "end_to_end_id": f"E2E{n}",
            "uetr": f"00000000-0000-4000-8000-{n:012d}" if channel == "swift" else None,
            "counterparty": f"CP{n}",
        }
        fields.update(kw)
        r = GatewayRecord(**fields)  # type: ignore[arg-type]
        self.records.append(r)
        return r

    def _line(self, r: GatewayRecord, **kw: object) -> StatementLine:
        n = self._next()
        fields: dict[str, object] = {
            "line_id": f"L{n}",
            "statement_id": "pending",
            "channel": r.channel,
            "amount": r.amount,
            "currency": r.currency,
            "value_date": r.value_date,
            "tx_id": r.merge_id or r.reference,
            "end_to_end_id": None if r.merge_id else r.end_to_end_id,
            "uetr": None if r.merge_id else r.uetr,
            "counterparty": r.counterparty,
        }
        fields.update(kw)
        line = StatementLine(**fields)  # type: ignore[arg-type]
        line = StatementLine(
            **{
                **{s: getattr(line, s) for s in StatementLine.__slots__},
                "content_hash": content_hash(line.line_id, line.amount, line.tx_id),
            }
        )
        self.buffer.append(line)
        return line

    def _case(
        self,
        records: list[GatewayRecord],
        lines: list[StatementLine],
        rec_visible: str,
        line_visible: list[str],
        rec_hidden: str = "break:missing_in_statement",
        unordered: bool = False,
    ) -> None:
        visible = {r.record_id: rec_visible for r in records}
        visible.update({ln.line_id: d for ln, d in zip(lines, line_visible, strict=True)})
        hidden = {r.record_id: rec_hidden for r in records}
        self.cases.append(Case(visible, hidden, lines, unordered))

    # --- payments ---------------------------------------------------------------

    @rule(channel=CHANNELS, cents=CENTS, day=st.sampled_from(OLD_DATES))
    def settle(self, channel: str, cents: int, day: date) -> None:
        r = self._record(channel, cents, day)
        self._case([r], [self._line(r)], "matched", ["matched"])

    @rule(channel=CHANNELS, cents=CENTS, day=st.sampled_from(OLD_DATES))
    def settle_without_references(self, channel: str, cents: int, day: date) -> None:
        r = self._record(channel, cents, day)
        line = self._line(r, tx_id=None, end_to_end_id=None, uetr=None)
        self._case([r], [line], "matched", ["matched"])

    @rule(
        channel=CHANNELS,
        items=st.lists(CENTS, min_size=2, max_size=6),
        short=st.booleans(),
        counted=st.booleans(),
    )
    def merged(self, channel: str, items: list[int], short: bool, counted: bool) -> None:
        mid = f"M{self._next()}"
        recs = [
            self._record(channel, c, OLD_DATES[0], merge_id=mid, counterparty="PAYEE")
            for c in items
        ]
        total = sum((r.amount for r in recs), Decimal(0))
        if short:  # one item's worth missing from the merge line: partial merge
            count = len(recs) - 1 if counted else None  # the rail may or may not count
            line = self._line(recs[0], amount=total - recs[-1].amount, batch_count=count)
            self._case(recs, [line], "break:partial_merge", ["break:partial_merge"])
        else:
            line = self._line(recs[0], amount=total, batch_count=len(recs) if counted else None)
            self._case(recs, [line], "matched", ["matched"])

    @rule(channel=CHANNELS, cents=CENTS)
    def failed_and_absent(self, channel: str, cents: int) -> None:
        r = self._record(channel, cents, OLD_DATES[1], status="failed")
        self._case([r], [], "absent_as_expected", [], rec_hidden="absent_as_expected")

    @rule(channel=CHANNELS, cents=CENTS)
    def not_yet_due(self, channel: str, cents: int) -> None:
        r = self._record(channel, cents, AS_OF)
        self._case([r], [], "pending", [], rec_hidden="pending")

    # --- plants -----------------------------------------------------------------

    @rule(channel=CHANNELS, cents=CENTS)
    def plant_drop(self, channel: str, cents: int) -> None:
        r = self._record(channel, cents, OLD_DATES[2])
        self._case([r], [], "break:missing_in_statement", [])

    @rule(channel=CHANNELS, cents=CENTS, factor=st.sampled_from(["0.5", "0.9", "1.02", "3"]))
    def plant_alter_amount(self, channel: str, cents: int, factor: str) -> None:
        r = self._record(channel, cents, OLD_DATES[3])
        line = self._line(r, amount=(r.amount * Decimal(factor)).quantize(Decimal("0.01")))
        self._case([r], [line], "break:amount_mismatch", ["break:amount_mismatch"])

    @rule(channel=CHANNELS, cents=CENTS, share=st.integers(min_value=1, max_value=100))
    def plant_fee(self, channel: str, cents: int, share: int) -> None:
        r = self._record(channel, cents, OLD_DATES[3])
        # A fee of share/100 of the 1% tolerance, at least one cent.
        fee = max(Decimal("0.01"), (r.amount * share / 10_000).quantize(Decimal("0.01")))
        fee = min(fee, TOL.fee_tolerance(r.amount).quantize(Decimal("0.01"), rounding="ROUND_DOWN"))
        line = self._line(r, amount=r.amount - fee)
        self._case([r], [line], "break:fee_deducted", ["break:fee_deducted"])

    @rule(channel=CHANNELS, cents=CENTS)
    def plant_duplicate(self, channel: str, cents: int) -> None:
        r = self._record(channel, cents, OLD_DATES[4])
        lines = [self._line(r), self._line(r)]
        self._case(
            [r], lines, "matched", ["matched", "break:duplicate_in_statement"], unordered=True
        )

    @rule(channel=CHANNELS, cents=CENTS, with_refs=st.booleans())
    def plant_unknown_entry(self, channel: str, cents: int, with_refs: bool) -> None:
        n = self._next()
        ghost = GatewayRecord(
            record_id="-", channel=channel, reference=f"GHOST{n}", amount=Decimal(cents).scaleb(-2),
            currency="EUR", status="settled", value_date=OLD_DATES[0],
            end_to_end_id=f"GE2E{n}" if with_refs else None, counterparty=f"UNKNOWN{n}",
        )  # fmt: skip
        line = self._line(ghost, tx_id=f"GHOST{n}" if with_refs else None)
        self.cases.append(Case({line.line_id: "break:missing_in_gateway"}, {}, [line]))

    @rule(channel=CHANNELS, cents=CENTS, days=st.integers(min_value=1, max_value=4))
    def plant_shift_value_date(self, channel: str, cents: int, days: int) -> None:
        r = self._record(channel, cents, OLD_DATES[1])
        line = self._line(r, value_date=r.value_date + timedelta(days=days))
        kind = "break:value_date_difference"
        self._case([r], [line], kind, [kind])

    @rule(channel=CHANNELS, cents=CENTS, status=st.sampled_from(["failed", "rejected", "unknown"]))
    def plant_settle_a_failed(self, channel: str, cents: int, status: str) -> None:
        r = self._record(channel, cents, OLD_DATES[2], status=status)
        line = self._line(r)
        hidden = "break:missing_in_statement" if status == "unknown" else "absent_as_expected"
        kind = "break:status_mismatch"
        self._case([r], [line], kind, [kind], rec_hidden=hidden)

    @rule(channel=CHANNELS, cents=CENTS)
    def plant_currency(self, channel: str, cents: int) -> None:
        r = self._record(channel, cents, OLD_DATES[0])
        line = self._line(r, currency="USD")
        kind = "break:currency_mismatch"
        self._case([r], [line], kind, [kind])

    # --- statements and operators -----------------------------------------------

    @rule()
    def import_statement(self) -> None:
        batch = list(self.buffer)
        self.buffer.clear()
        outcome = self.book.add(batch)
        assert (outcome.added, outcome.conflicts) == (len(batch), [])
        self.imported.append(batch)

    @precondition(lambda self: bool(self.imported))
    @rule(data=st.data())
    def reimport_statement(self, data: st.DataObject) -> None:
        batch = data.draw(st.sampled_from(self.imported))
        outcome = self.book.add(batch)
        assert (outcome.added, outcome.unchanged, outcome.conflicts) == (0, len(batch), [])

    @precondition(lambda self: self.last is not None and bool(self.last.breaks))
    @rule(data=st.data())
    def resolve_a_break(self, data: st.DataObject) -> None:
        assert self.last is not None
        self.resolved.add(data.draw(st.sampled_from(self.last.breaks)).fingerprint)

    # --- the invariants -----------------------------------------------------------

    @invariant()
    def reconciles_exactly_as_planted(self) -> None:
        lines = list(self.book)
        result = match(
            self.records,
            lines,
            tolerances=TOL,
            as_of=AS_OF,
            already_resolved=frozenset(self.resolved),
        )
        self.last = result
        recs, lns = result.accounting()  # raises if anything is accounted twice
        assert set(recs) == {r.record_id for r in self.records}
        assert set(lns) == {ln.line_id for ln in lines}
        assert not {b.fingerprint for b in result.breaks} & self.resolved
        actual = {k: v.replace("resolved:", "break:") for k, v in (recs | lns).items()}
        in_book = {ln.line_id for ln in lines}
        for case in self.cases:
            seen = all(ln.line_id in in_book for ln in case.lines)
            expected = case.visible if seen else case.hidden
            got = {k: actual.get(k) for k in expected}
            if case.unordered_lines and seen:
                ids = [ln.line_id for ln in case.lines]
                assert sorted(got.pop(i) or "" for i in ids) == sorted(expected[i] for i in ids)
                expected = {k: v for k, v in expected.items() if k not in ids}
            assert got == expected, (case, result.breaks)
        n_matched_records = sum(len(m.record_ids) for m in result.matches)
        assert n_matched_records == sum(1 for v in recs.values() if v == "matched")


ReconMachine.TestCase.settings = settings(
    max_examples=120,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestReconStateful = ReconMachine.TestCase
