"""The rail's own book of what it received, settled and rejected: the ground truth for tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

# Internal phases. "received" (RCVD) lasts while the rail is still processing (latency);
# "accepted" (ACSP) means queued for a later settlement (batch cycle, next business day).
RECEIVED = "received"
ACCEPTED = "accepted"
SETTLED = "settled"
REJECTED = "rejected"

ISO_STATUS = {RECEIVED: "RCVD", ACCEPTED: "ACSP", SETTLED: "ACSC", REJECTED: "RJCT"}


@dataclass(slots=True)
class Entry:
    key: str  # de-duplication key: TxId / JSON reference, or UETR on swift
    reference: str
    end_to_end_id: str
    uetr: str | None
    instr_id: str | None
    amount: Decimal
    currency: str
    debtor_account: str
    creditor_account: str
    creditor_name: str
    fingerprint: tuple[str, ...]
    received_at: datetime
    booked_at: datetime
    bank_ref: str
    phase: str = RECEIVED
    reason: str | None = None
    fee: Decimal = Decimal(0)
    value_date: date | None = None
    batch_id: str | None = None
    n_items: int = 1
    msg_id: str | None = None
    due_at: datetime | None = None
    callback_url: str | None = None

    @property
    def status(self) -> str:
        """The public three-way status: received (incl. queued), settled, rejected."""
        return RECEIVED if self.phase in (RECEIVED, ACCEPTED) else self.phase

    @property
    def iso_status(self) -> str:
        return ISO_STATUS[self.phase]

    def to_json(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "end_to_end_id": self.end_to_end_id,
            "uetr": self.uetr,
            "amount": str(self.amount),
            "currency": self.currency,
            "status": self.status,
            "iso_status": self.iso_status,
            "reason": self.reason,
            "fee": str(self.fee),
            "value_date": self.value_date.isoformat() if self.value_date else None,
            "booked_at": self.booked_at.isoformat(),
            "received_at": self.received_at.isoformat(),
            "debtor_account": self.debtor_account,
            "creditor_account": self.creditor_account,
            "creditor_name": self.creditor_name,
            "batch_id": self.batch_id,
            "msg_id": self.msg_id,
            "n_items": self.n_items,
            "bank_ref": self.bank_ref,
        }


class Ledger:
    """In-memory, indexed by de-dup key and UETR so 1,500+ lookups/s stay O(1)."""

    def __init__(self) -> None:
        self._by_key: dict[str, Entry] = {}
        self._by_uetr: dict[str, Entry] = {}
        self._by_e2e: dict[str, Entry] = {}
        self.pending: dict[str, Entry] = {}  # accepted, waiting for a settlement time

    def __len__(self) -> int:
        return len(self._by_key)

    def __iter__(self) -> Iterator[Entry]:
        return iter(list(self._by_key.values()))

    def add(self, entry: Entry) -> None:
        self._by_key[entry.key] = entry
        if entry.uetr:
            self._by_uetr[entry.uetr] = entry
        self._by_e2e[entry.end_to_end_id] = entry

    def remove(self, entry: Entry) -> None:
        self._by_key.pop(entry.key, None)
        if entry.uetr and self._by_uetr.get(entry.uetr) is entry:
            del self._by_uetr[entry.uetr]
        if self._by_e2e.get(entry.end_to_end_id) is entry:
            del self._by_e2e[entry.end_to_end_id]
        self.pending.pop(entry.key, None)

    def get(self, key: str) -> Entry | None:
        return self._by_key.get(key)

    def by_uetr(self, uetr: str) -> Entry | None:
        return self._by_uetr.get(uetr)

    def by_end_to_end_id(self, e2e: str) -> Entry | None:
        return self._by_e2e.get(e2e)

    def clear(self) -> None:
        self._by_key.clear()
        self._by_uetr.clear()
        self._by_e2e.clear()
        self.pending.clear()
