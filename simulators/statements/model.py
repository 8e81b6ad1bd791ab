"""Format-neutral statement: lines built from the ledger, rendered by camt053 / mt94x / csv."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from simulators.ledger import SETTLED, Entry
from simulators.rail import Rail

PAYMENT = "payment"
FEE = "fee"


@dataclass
class Item:
    reference: str
    end_to_end_id: str
    uetr: str | None
    instr_id: str | None
    amount: Decimal
    creditor_name: str
    creditor_account: str


@dataclass
class Line:
    kind: str  # payment | fee
    amount: Decimal  # always positive; all lines here are debits of the settlement account
    booking_date: date
    value_date: date
    entry_ref: str  # NtryRef / customer reference: TxId, or the batch MsgId
    bank_ref: str  # AcctSvcrRef / bank reference (unique per line)
    booked_at: datetime
    items: list[Item] = field(default_factory=list)
    batch_id: str | None = None
    charges: Decimal | None = None  # planted "fee" break: charges included in the amount
    fee_of: str | None = None  # fee lines: bank_ref of the payment line they belong to

    @property
    def signed(self) -> Decimal:
        return -self.amount


@dataclass
class Statement:
    id: str
    rail_id: str
    code: str
    account: str
    currency: str
    day: date
    sequence: int
    created: datetime
    opening: Decimal
    lines: list[Line]
    cross_border: bool = False

    @property
    def closing(self) -> Decimal:
        # Always from the statement's own lines: opening + entries = closing, planted or not.
        return self.opening + sum((ln.signed for ln in self.lines), Decimal(0))


def _item(e: Entry) -> Item:
    return Item(
        reference=e.reference,
        end_to_end_id=e.end_to_end_id,
        uetr=e.uetr,
        instr_id=e.instr_id,
        amount=e.amount,
        creditor_name=e.creditor_name,
        creditor_account=e.creditor_account,
    )


def settled_lines(entries: list[Entry], local_date: date) -> list[Line]:
    """Payment + fee lines; entries of one batch booked together become one batch line."""
    lines: list[Line] = []
    groups: dict[tuple[str, datetime], list[Entry]] = {}
    order: list[tuple[str, datetime] | Entry] = []
    for e in entries:
        if e.batch_id:
            gk = (e.batch_id, e.booked_at)
            if gk not in groups:
                groups[gk] = []
                order.append(gk)
            groups[gk].append(e)
        else:
            order.append(e)
    for item in order:
        members = groups[item] if isinstance(item, tuple) else [item]
        first = members[0]
        value_date = first.value_date or local_date
        is_batch = isinstance(item, tuple)
        bank_ref = first.bank_ref + ("B" if is_batch else "")
        payment = Line(
            kind=PAYMENT,
            amount=sum((m.amount for m in members), Decimal(0)),
            booking_date=local_date,
            value_date=value_date,
            entry_ref=first.batch_id if is_batch and first.batch_id else first.reference,
            bank_ref=bank_ref,
            booked_at=first.booked_at,
            items=[_item(m) for m in members],
            batch_id=first.batch_id if is_batch else None,
        )
        lines.append(payment)
        fee = sum((m.fee for m in members), Decimal(0))
        if fee > 0:
            lines.append(
                Line(
                    kind=FEE,
                    amount=fee,
                    booking_date=local_date,
                    value_date=value_date,
                    entry_ref=payment.entry_ref,
                    bank_ref=bank_ref[:15] + "F",
                    booked_at=first.booked_at,
                    items=[_item(m) for m in members],
                    batch_id=payment.batch_id,
                    fee_of=bank_ref,
                )
            )
    return lines


def build_statement(rail: Rail, day: date, currency: str) -> Statement:
    cfg = rail.config
    hours = cfg.hours
    settled = [e for e in rail.ledger if e.phase == SETTLED and e.currency == currency]
    before = [e for e in settled if hours.local_date(e.booked_at) < day]
    today = sorted(
        (e for e in settled if hours.local_date(e.booked_at) == day),
        key=lambda e: (e.booked_at, e.bank_ref),
    )
    opening = cfg.opening_balances.get(currency, Decimal(0)) - sum(
        (e.amount + e.fee for e in before), Decimal(0)
    )
    rail.statement_seq += 1
    return Statement(
        id=f"{cfg.code[:4]}{day:%y%m%d}{rail.statement_seq:04d}",
        rail_id=cfg.id,
        code=cfg.code[:4],
        account=cfg.account,
        currency=currency,
        day=day,
        sequence=rail.statement_seq,
        created=rail.clock.now(),
        opening=opening,
        lines=settled_lines(today, day),
        cross_border=cfg.require_lei or "mt103" in cfg.protocols,
    )
