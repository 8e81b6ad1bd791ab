"""One statement value type for camt.053, camt.054, MT940 and MT950, so that
reconciliation reads every channel's statement the same way."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class Balance:
    amount: Decimal  # always positive; the sign is credit_debit
    currency: str
    date: dt.date
    credit_debit: str  # "CRDT" or "DBIT"
    kind: str = "CLBD"  # OPBD/PRCD (opening), CLBD (closing), ITBD (intermediate), CLAV...

    @property
    def signed(self) -> Decimal:
        return self.amount if self.credit_debit == "CRDT" else -self.amount


@dataclass(frozen=True)
class StatementEntry:
    amount: Decimal
    currency: str
    credit_debit: str  # CRDT / DBIT
    booking_date: dt.date | None
    value_date: dt.date | None
    entry_ref: str | None = None
    account_servicer_ref: str | None = None
    end_to_end_ids: tuple[str, ...] = ()
    tx_ids: tuple[str, ...] = ()
    uetrs: tuple[str, ...] = ()
    instruction_ids: tuple[str, ...] = ()
    batch_count: int | None = None
    batch_total: Decimal | None = None
    fees: Decimal | None = None
    reversal: bool = False
    transaction_code: str | None = None
    details: str | None = None


@dataclass(frozen=True)
class Statement:
    source: str  # camt.053.001.08, camt.054.001.08, MT940, MT950
    statement_id: str
    account: str
    currency: str | None
    sequence: int | None = None  # electronic sequence / MT 28C statement number
    page: int | None = None
    opening_balance: Balance | None = None
    closing_balance: Balance | None = None
    entries: list[StatementEntry] = field(default_factory=list)
    created: dt.datetime | None = None
