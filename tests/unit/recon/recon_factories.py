"""Builders for reconciliation tests: a record and the line a rail would print for it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from paygate.recon.matching import Tolerances
from paygate.recon.records import GatewayRecord, StatementLine, content_hash

AS_OF = date(2024, 3, 15)  # a Friday
OLD = date(2024, 3, 1)  # well past any due date at AS_OF
TOL = Tolerances(
    date_window_days=2, due_after_days=2, fee_abs=Decimal("0"), fee_pct=Decimal("0.01")
)


def rec(n: int, amount: str = "100.00", **kw: Any) -> GatewayRecord:
    fields: dict[str, Any] = {
        "record_id": f"P{n}",
        "channel": "rtgs",
        "reference": f"TX{n}",
        "amount": Decimal(amount),
        "currency": "EUR",
        "status": "settled",
        "value_date": OLD,
        "end_to_end_id": f"E2E{n}",
        "counterparty": f"ACC{n}",
    }
    fields.update(kw)
    return GatewayRecord(**fields)


def line_for(r: GatewayRecord, seq: int | None = None, **kw: Any) -> StatementLine:
    seq = seq if seq is not None else int(r.record_id[1:]) if r.record_id[1:].isdigit() else 0
    fields: dict[str, Any] = {
        "line_id": f"S1#{seq}",
        "statement_id": "S1",
        "channel": r.channel,
        "amount": r.amount,
        "currency": r.currency,
        "value_date": r.value_date,
        "tx_id": r.reference,
        "end_to_end_id": r.end_to_end_id,
        "uetr": r.uetr,
        "counterparty": r.counterparty,
    }
    fields.update(kw)
    line = StatementLine(**fields)
    return replace(line, content_hash=content_hash(line.amount, line.tx_id, line.value_date))


def loose_line(seq: int, amount: str, **kw: Any) -> StatementLine:
    fields: dict[str, Any] = {
        "line_id": f"S1#{seq}",
        "statement_id": "S1",
        "channel": "rtgs",
        "amount": Decimal(amount),
        "currency": "EUR",
        "value_date": OLD,
    }
    fields.update(kw)
    return StatementLine(**fields)
