"""Planted discrepancies: alter a statement on purpose and return the list of what was done.

The list is the ground truth a reconciliation run must find, break for break.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

from simulators.ledger import REJECTED, Entry
from simulators.statements.model import FEE, PAYMENT, Item, Line, Statement

KINDS = ("drop", "amount", "fee", "duplicate", "unknown", "value_date", "settled_but_failed")
# Kinds that alter an existing payment line; each takes a distinct line.
_TARGETED = ("drop", "amount", "fee", "duplicate", "value_date")


class PlantSpecError(ValueError):
    """The plant= parameter is not `kind:count[,kind:count...]` with known kinds."""


def parse_plant_spec(spec: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        kind, _, count = part.partition(":")
        if kind not in KINDS:
            raise PlantSpecError(f"unknown plant kind {kind!r}; known: {', '.join(KINDS)}")
        try:
            n = int(count) if count else 1
        except ValueError as exc:
            raise PlantSpecError(f"count of {kind} is not an integer") from exc
        if n < 0:
            raise PlantSpecError(f"count of {kind} is negative")
        counts[kind] = counts.get(kind, 0) + n
    return counts


def _record(kind: str, line: Line, **extra: Any) -> dict[str, Any]:
    first = line.items[0] if line.items else None
    rec: dict[str, Any] = {
        "kind": kind,
        "reference": line.entry_ref,
        "end_to_end_id": first.end_to_end_id if first else None,
        "uetr": first.uetr if first else None,
        "bank_ref": line.bank_ref,
        "currency": None,
        "original_amount": None,
        "statement_amount": None,
        "original_value_date": None,
        "statement_value_date": None,
        "batch_id": line.batch_id,
        "references": [i.reference for i in line.items],
    }
    rec.update(extra)
    return rec


def plant(
    stmt: Statement, counts: dict[str, int], seed: int, rejected: list[Entry], fee_of: Any
) -> list[dict[str, Any]]:
    """Mutate `stmt.lines` per `counts`; return exactly what was planted (fewer if the day had
    too few payments or rejections to work with). `fee_of(amount, currency)` is the tariff."""
    rng = random.Random(seed)
    planted: list[dict[str, Any]] = []
    pool = [ln for ln in stmt.lines if ln.kind == PAYMENT]
    rng.shuffle(pool)
    ccy = stmt.currency

    def fee_line_of(line: Line) -> Line | None:
        return next((f for f in stmt.lines if f.kind == FEE and f.fee_of == line.bank_ref), None)

    for kind in _TARGETED:
        for _ in range(counts.get(kind, 0)):
            if not pool:
                break
            line = pool.pop()
            amount = str(line.amount)
            if kind == "drop":
                stmt.lines.remove(line)
                fee_line = fee_line_of(line)
                if fee_line is not None:
                    stmt.lines.remove(fee_line)
                planted.append(_record(kind, line, currency=ccy, original_amount=amount))
            elif kind == "amount":
                delta = Decimal(rng.choice(["0.01", "1.00", "10.00", "-0.01"]))
                if line.amount + delta <= 0:
                    delta = abs(delta)
                line.amount += delta
                line.items[0].amount += delta
                planted.append(
                    _record(
                        kind,
                        line,
                        currency=ccy,
                        original_amount=amount,
                        statement_amount=str(line.amount),
                        difference=str(delta),
                    )
                )
            elif kind == "fee":
                extra = Decimal(rng.choice(["1.50", "5.00", "12.00"]))
                line.amount += extra
                line.charges = extra
                planted.append(
                    _record(
                        kind,
                        line,
                        currency=ccy,
                        original_amount=amount,
                        statement_amount=str(line.amount),
                        fee=str(extra),
                    )
                )
            elif kind == "duplicate":
                copy = replace(line, bank_ref=line.bank_ref[:15] + "D", items=list(line.items))
                stmt.lines.insert(stmt.lines.index(line) + 1, copy)
                planted.append(
                    _record(
                        kind,
                        copy,
                        currency=ccy,
                        original_amount=amount,
                        statement_amount=amount,
                        original_bank_ref=line.bank_ref,
                    )
                )
            else:  # value_date
                shift = timedelta(days=rng.choice([1, -1, 2]))
                original = line.value_date
                line.value_date = original + shift
                planted.append(
                    _record(
                        kind,
                        line,
                        currency=ccy,
                        original_amount=amount,
                        statement_amount=amount,
                        original_value_date=original.isoformat(),
                        statement_value_date=line.value_date.isoformat(),
                    )
                )
    for _ in range(counts.get("unknown", 0)):
        token = f"{rng.getrandbits(40):010X}"
        item = Item(
            reference=f"UNK{token}",
            end_to_end_id=f"UNKE2E{token}",
            uetr=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            instr_id=None,
            amount=Decimal(rng.randint(100, 5_000_000)) / 100,
            creditor_name="UNKNOWN BENEFICIARY",
            creditor_account="UNKNOWN000001",
        )
        line = Line(
            kind=PAYMENT,
            amount=item.amount,
            booking_date=stmt.day,
            value_date=stmt.day,
            entry_ref=item.reference,
            bank_ref=f"{stmt.code}U{token}",
            booked_at=stmt.created,
            items=[item],
        )
        stmt.lines.append(line)
        planted.append(_record("unknown", line, currency=ccy, statement_amount=str(line.amount)))
    candidates = [e for e in rejected if e.phase == REJECTED and e.currency == ccy]
    rng.shuffle(candidates)
    for _ in range(counts.get("settled_but_failed", 0)):
        if not candidates:
            break
        e = candidates.pop()
        item = Item(
            e.reference, e.end_to_end_id, e.uetr, e.instr_id, e.amount, e.creditor_name,
            e.creditor_account,
        )  # fmt: skip
        line = Line(
            kind=PAYMENT,
            amount=e.amount,
            booking_date=stmt.day,
            value_date=stmt.day,
            entry_ref=e.reference,
            bank_ref=(e.bank_ref or f"{stmt.code}R{rng.getrandbits(36):09d}")[:15] + "S",
            booked_at=stmt.created,
            items=[item],
        )
        stmt.lines.append(line)
        fee = fee_of(e.amount, e.currency)
        if fee > 0:
            stmt.lines.append(
                Line(
                    kind=FEE,
                    amount=fee,
                    booking_date=stmt.day,
                    value_date=stmt.day,
                    entry_ref=e.reference,
                    bank_ref=line.bank_ref[:14] + "SF",
                    booked_at=stmt.created,
                    items=[item],
                    fee_of=line.bank_ref,
                )
            )
        planted.append(
            _record(
                "settled_but_failed",
                line,
                currency=ccy,
                statement_amount=str(e.amount),
                original_reason=e.reason,
            )
        )
    return planted
