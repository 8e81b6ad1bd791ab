"""The two sides of a reconciliation, as plain values.

``GatewayRecord`` is what the gateway believes it sent; ``StatementLine`` is what a
rail's statement says moved. Both are ``__slots__`` dataclasses rather than pydantic
models: a nightly run holds millions of them, and validation already happened where
they were built (the payment store, the statement parsers).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

RecordStatus = Literal[
    "settled", "accepted", "submitted", "unknown", "rejected", "failed", "returned"
]
CreditDebit = Literal["C", "D"]

# Statuses under which the rail must show the money moving, sooner or later.
EXPECTED_ON_STATEMENT: frozenset[str] = frozenset({"settled", "accepted", "submitted", "returned"})
# Statuses under which the rail must NOT show it; a line for one is a status mismatch.
NOT_EXPECTED_ON_STATEMENT: frozenset[str] = frozenset({"rejected", "failed"})
# "unknown" is neither: the response was lost, the statement is what resolves it.

# ISO 20022 placeholder for an absent EndToEndId; it identifies nothing.
NOT_PROVIDED = "NOTPROVIDED"


@dataclass(frozen=True, slots=True)
class GatewayRecord:
    """One payment (or one item of a merged payment) as the gateway recorded it."""

    record_id: str
    channel: str
    reference: str  # channel de-duplication reference / TxId we sent
    amount: Decimal
    currency: str
    status: RecordStatus
    value_date: date
    end_to_end_id: str | None = None
    uetr: str | None = None
    instruction_id: str | None = None
    merge_id: str | None = None  # items of one merged payment share it
    counterparty: str | None = None  # creditor account


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One entry of a channel statement. ``amount`` is the magnitude; ``credit_debit``
    says which way it moved for the statement's account holder (us)."""

    line_id: str  # statement id + sequence: stable across re-imports
    statement_id: str
    channel: str
    amount: Decimal
    currency: str
    value_date: date
    credit_debit: CreditDebit = "D"
    booking_date: date | None = None
    entry_ref: str | None = None  # account owner's reference (MT940 :61: subfield 7)
    account_servicer_ref: str | None = None
    end_to_end_id: str | None = None
    tx_id: str | None = None
    uetr: str | None = None
    batch_count: int | None = None  # number of items the rail booked under this entry
    counterparty: str | None = None
    details: str | None = None
    is_fee: bool = False  # a charge entry, not a payment
    content_hash: str = ""

    @property
    def signed_amount(self) -> Decimal:
        return self.amount if self.credit_debit == "C" else -self.amount

    def references(self) -> tuple[str, ...]:
        """Every non-empty reference the line carries, in a fixed order."""
        refs = (
            self.tx_id,
            self.entry_ref,
            self.end_to_end_id,
            self.uetr,
            self.account_servicer_ref,
        )
        return tuple(r for r in refs if r and r != NOT_PROVIDED)


def content_hash(*parts: object) -> str:
    """Hash of a line's content (not its id): a re-import with the same id and hash is a
    no-op, the same id with another hash is a conflicting statement."""
    digest = hashlib.blake2b(digest_size=16)
    for part in parts:
        digest.update(b"\x1f" if part is None else str(part).encode())
        digest.update(b"\x1e")
    return digest.hexdigest()
