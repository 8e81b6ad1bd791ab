"""One rail's business rules: de-duplication, validation, limits, hours, liquidity, settlement.

Protocol handlers turn their wire format into `Instruction`s and hand them to `Rail.submit`;
the rail answers with ledger entries. Nothing here knows about HTTP or XML.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from simulators.behaviour import FAULT_5XX, FAULT_NONE, Behaviour, Dice
from simulators.clock import SimClock
from simulators.config import RailConfig
from simulators.ledger import ACCEPTED, RECEIVED, REJECTED, SETTLED, Entry, Ledger
from simulators.tariff import quantize

_ACCOUNT = re.compile(r"^[A-Za-z0-9\-]{4,34}$")
_LEI = re.compile(r"^[A-Z0-9]{18}[0-9]{2}$")
# Only these are checked as IBANs (country + exact length), so domestic account numbers that
# happen to start with two letters and two digits (e.g. CN...) are not mistaken for IBANs.
_IBAN_LENGTHS = {
    "AT": 20, "BE": 16, "CH": 21, "DE": 22, "DK": 18, "ES": 24, "FI": 18, "FR": 27, "GB": 22,
    "IE": 22, "IT": 27, "LU": 20, "NL": 18, "NO": 15, "PL": 28, "PT": 25, "SE": 24,
}  # fmt: skip


def _mod97(text: str) -> int:
    digits = "".join(str(int(c, 36)) for c in text)
    return int(digits) % 97


def account_valid(account: str) -> bool:
    if not _ACCOUNT.match(account):
        return False
    country = account[:2]
    if country in _IBAN_LENGTHS and len(account) == _IBAN_LENGTHS[country]:
        if not account[2:4].isdigit():
            return False
        return _mod97(account[4:] + account[:4]) == 1
    return True


def lei_valid(lei: str | None) -> bool:
    return bool(lei) and bool(_LEI.match(lei or "")) and _mod97(lei or "") == 1


@dataclass(frozen=True)
class Instruction:
    """One credit transfer as the rail understands it, whatever the wire format was."""

    reference: str
    end_to_end_id: str
    uetr: str | None
    amount: Decimal
    currency: str
    debtor_account: str
    creditor_account: str
    creditor_name: str
    instr_id: str | None = None
    debtor_lei: str | None = None
    creditor_lei: str | None = None

    def fingerprint(self) -> tuple[str, ...]:
        # What must match for a resend to count as "the same payment" rather than a clash.
        return (str(self.amount.normalize()), self.currency, self.creditor_account)


@dataclass
class TxResult:
    entry: Entry
    instruction: Instruction
    new: bool  # False: answered from the ledger (duplicate) or a DUPL clash


@dataclass
class Submission:
    results: list[TxResult]
    fault: str


class Rail:
    def __init__(self, config: RailConfig, clock: SimClock) -> None:
        self.config = config
        self.clock = clock
        self.behaviour: Behaviour = config.behaviour
        self.dice = Dice(self.behaviour.seed)
        self.ledger = Ledger()
        self.planted: dict[str, list[dict[str, Any]]] = {}
        # Called with entries that reached a final state asynchronously (cycle, next day).
        self.on_settled: Callable[[list[Entry]], None] | None = None
        self._reset_counters()

    @property
    def id(self) -> str:
        return self.config.id

    def _reset_counters(self) -> None:
        self.available: dict[str, Decimal] = dict(self.config.opening_balances)
        self._daily: dict[date, tuple[Decimal, int]] = {}
        self._seq = 0
        self.statement_seq = 0

    def reset(self) -> None:
        self.ledger.clear()
        self.planted.clear()
        self._reset_counters()
        self.dice.reseed(self.behaviour.seed)

    def set_behaviour(self, behaviour: Behaviour) -> None:
        reseed = behaviour.seed != self.behaviour.seed
        self.behaviour = behaviour
        if reseed:
            self.dice.reseed(behaviour.seed)

    def next_bank_ref(self) -> str:
        self._seq += 1
        return f"{self.config.code[:4]}{self._seq:010d}"  # 14 chars: MT :61: allows 16

    # -- submission -------------------------------------------------------------------------

    async def submit(
        self,
        instructions: list[Instruction],
        *,
        dedupe_on_uetr: bool = False,
        batch_id: str | None = None,
        msg_id: str | None = None,
        callback_url: str | None = None,
    ) -> Submission:
        """Register, wait the configured latency, then decide. Returns the fault to act out."""
        self.advance()
        fault = self.dice.fault(self.behaviour)
        delay = self.dice.latency_s(self.behaviour)
        results = self.register(
            instructions,
            dedupe_on_uetr=dedupe_on_uetr,
            batch_id=batch_id,
            msg_id=msg_id,
            callback_url=callback_url,
        )
        if delay > 0:
            await asyncio.sleep(delay)
        if fault == FAULT_5XX and not self.behaviour.settle_before_5xx:
            self.forget(results)  # the rail "crashed" before booking: inquiry must say 404
            return Submission(results, fault)
        self.decide(results)
        return Submission(results, fault)

    def register(
        self,
        instructions: list[Instruction],
        *,
        dedupe_on_uetr: bool = False,
        batch_id: str | None = None,
        msg_id: str | None = None,
        callback_url: str | None = None,
    ) -> list[TxResult]:
        now = self.clock.now()
        out: list[TxResult] = []
        for ins in instructions:
            key = (ins.uetr or "") if dedupe_on_uetr else ins.reference
            existing = self.ledger.get(key)
            if existing is not None:
                if existing.fingerprint == ins.fingerprint():
                    out.append(TxResult(existing, ins, new=False))
                else:
                    out.append(TxResult(self._clash(ins, key, now), ins, new=False))
                continue
            entry = _entry(
                ins,
                key,
                now,
                bank_ref=self.next_bank_ref(),
                batch_id=batch_id,
                n_items=len(instructions) if batch_id else 1,
                msg_id=msg_id,
                callback_url=callback_url or self.config.callback_url,
            )
            self.ledger.add(entry)
            out.append(TxResult(entry, ins, new=True))
        return out

    def _clash(self, ins: Instruction, key: str, now: datetime) -> Entry:
        # Same reference, different payment: reject the newcomer, keep the original untouched.
        return _entry(ins, key, now, bank_ref="", phase=REJECTED, reason="DUPL")

    def forget(self, results: list[TxResult]) -> None:
        for r in results:
            if r.new:
                self.ledger.remove(r.entry)

    def decide(self, results: list[TxResult]) -> None:
        now = self.clock.now()
        for r in results:
            if r.new and r.entry.phase == RECEIVED:
                self._decide(r.entry, r.instruction, now)

    def static_reason(self, ins: Instruction) -> str | None:
        """Deterministic rejection reasons, checked before random rejects and liquidity."""
        cfg = self.config
        if ins.currency not in cfg.currencies:
            return "CURR"
        if ins.amount <= 0:
            return "AM01"
        if ins.amount != quantize(ins.amount, ins.currency):
            return "AM12"  # more decimals than the currency has minor units
        if ins.amount < cfg.limits.min_amount:
            return "AM02"
        if cfg.limits.max_amount is not None and ins.amount > cfg.limits.max_amount:
            return "AM02"
        if cfg.require_lei:
            if not lei_valid(ins.debtor_lei):
                return "BE16"
            if not lei_valid(ins.creditor_lei):
                return "BE17"
        if not account_valid(ins.debtor_account):
            return "AC02"
        if not account_valid(ins.creditor_account):
            return "AC01"
        if ins.creditor_account in cfg.closed_accounts:
            return "AC04"
        if ins.creditor_account in cfg.blocked_accounts or ins.debtor_account in (
            cfg.blocked_accounts
        ):
            return "RR04"
        return None

    def _decide(self, entry: Entry, ins: Instruction, now: datetime) -> None:
        cfg = self.config
        reason = self.static_reason(ins) or self.dice.reject_reason(self.behaviour)
        if reason:
            self._reject(entry, reason, now)
            return
        if cfg.hours.accepting(now):
            settle_at = now
        elif cfg.outside_hours == "reject":
            self._reject(entry, "CUTA", now)
            return
        else:
            settle_at = cfg.hours.next_open(now)
        if cfg.settlement == "cycle":
            settle_at = self.next_cycle(settle_at)
        day = cfg.hours.local_date(settle_at)
        day_amount, day_count = self._daily.get(day, (Decimal(0), 0))
        if cfg.limits.daily_amount is not None and day_amount + ins.amount > (
            cfg.limits.daily_amount
        ):
            self._reject(entry, "AM14", now)
            return
        if cfg.limits.daily_count is not None and day_count + 1 > cfg.limits.daily_count:
            self._reject(entry, "AM14", now)
            return
        fee = cfg.tariff.fee(ins.amount, ins.currency)
        balance = self.available.get(ins.currency, Decimal(0))
        if balance < ins.amount + fee:
            self._reject(entry, "AM04", now)
            return
        self.available[ins.currency] = balance - ins.amount - fee
        self._daily[day] = (day_amount + ins.amount, day_count + 1)
        entry.fee = fee
        if settle_at <= now:
            self._settle(entry, now)
        else:
            entry.phase = ACCEPTED
            entry.due_at = settle_at
            self.ledger.pending[entry.key] = entry

    def next_cycle(self, after: datetime) -> datetime:
        """The first settlement-cycle boundary strictly after `after` (local midnight aligned)."""
        local = self.config.hours.local(after)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        cycle = timedelta(minutes=self.config.cycle_minutes)
        n = (local - midnight) // cycle + 1
        return (midnight + n * cycle).astimezone(UTC)

    def _reject(self, entry: Entry, reason: str, now: datetime) -> None:
        entry.phase = REJECTED
        entry.reason = reason
        entry.fee = Decimal(0)
        entry.booked_at = now

    def _settle(self, entry: Entry, at: datetime) -> None:
        entry.phase = SETTLED
        entry.booked_at = at
        entry.value_date = self.config.hours.local_date(at)
        entry.due_at = None
        self.ledger.pending.pop(entry.key, None)

    def advance(self, now: datetime | None = None) -> list[Entry]:
        """Settle every queued entry whose time has come (at its due time, not at `now`)."""
        if not self.ledger.pending:
            return []
        now = now or self.clock.now()
        due = [e for e in self.ledger.pending.values() if e.due_at is not None and e.due_at <= now]
        due.sort(key=lambda e: (e.due_at or now, e.bank_ref))
        for e in due:
            self._settle(e, e.due_at or now)
        if due and self.on_settled is not None:
            self.on_settled(due)
        return due

    # -- inquiry ----------------------------------------------------------------------------

    def find(
        self, *, reference: str | None = None, uetr: str | None = None, e2e: str | None = None
    ) -> Entry | None:
        self.advance()
        if reference:
            entry = self.ledger.get(reference)
            if entry is not None:
                return entry
        if uetr:
            entry = self.ledger.by_uetr(uetr)
            if entry is not None:
                return entry
        if e2e:
            return self.ledger.by_end_to_end_id(e2e)
        return None

    def profile(self) -> dict[str, Any]:
        cfg = self.config
        return {
            "rail": cfg.id,
            "code": cfg.code,
            "protocols": list(cfg.protocols),
            "account": cfg.account,
            "currencies": list(cfg.currencies),
            "fees": cfg.tariff.describe(),
            "limits": cfg.limits.describe(),
            "hours": cfg.hours.describe(),
            "outside_hours": cfg.outside_hours,
            "settlement": {"mode": cfg.settlement, "cycle_minutes": cfg.cycle_minutes},
            "require_lei": cfg.require_lei,
            "opening_balances": {k: str(v) for k, v in cfg.opening_balances.items()},
            "available": {k: str(v) for k, v in self.available.items()},
            "callback_url": cfg.callback_url,
            "behaviour": self.behaviour.to_json(),
        }


__all__ = ["FAULT_NONE", "Instruction", "Rail", "Submission", "TxResult"]


def _entry(ins: Instruction, key: str, now: datetime, **extra: Any) -> Entry:
    """A ledger entry for an instruction as received now; ``extra`` sets the rest."""
    return Entry(
        key=key,
        reference=ins.reference,
        end_to_end_id=ins.end_to_end_id,
        uetr=ins.uetr,
        instr_id=ins.instr_id,
        amount=ins.amount,
        currency=ins.currency,
        debtor_account=ins.debtor_account,
        creditor_account=ins.creditor_account,
        creditor_name=ins.creditor_name,
        fingerprint=ins.fingerprint(),
        received_at=now,
        booked_at=now,
        **extra,
    )
