"""Daily and monthly figures per rail for the operations view: volume, success rate,
settled amount per currency. A pure fold over gateway records."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from paygate.recon.records import GatewayRecord

Period = Literal["day", "month"]
# Decided, not settled. "cancelled" is a gateway status (records map it to "failed").
FAILURE_STATUSES = frozenset({"failed", "rejected", "returned", "cancelled"})


@dataclass(slots=True)
class RailAggregate:
    channel: str
    period: str  # "2024-03-15" or "2024-03"
    volume: int = 0
    settled: int = 0
    failed: int = 0
    amount: dict[str, Decimal] = field(default_factory=dict)  # settled, per currency

    @property
    def success_rate(self) -> Decimal | None:
        """Settled over decided (settled + failed/rejected/returned); in-flight payments
        are not failures yet. None when nothing is decided."""
        decided = self.settled + self.failed
        if not decided:
            return None
        return (Decimal(self.settled) / Decimal(decided)).quantize(Decimal("0.0001"))

    def to_dict(self) -> dict[str, object]:
        rate = self.success_rate
        return {
            "channel": self.channel,
            "period": self.period,
            "volume": self.volume,
            "settled": self.settled,
            "failed": self.failed,
            "success_rate": None if rate is None else str(rate),
            "amount": {ccy: str(v) for ccy, v in sorted(self.amount.items())},
        }


def aggregate(records: Iterable[GatewayRecord], period: Period = "day") -> list[RailAggregate]:
    """One row per (channel, period), sorted; the period is taken from the value date."""
    rows: dict[tuple[str, str], RailAggregate] = {}
    width = 10 if period == "day" else 7
    for rec in records:
        key = (rec.channel, rec.value_date.isoformat()[:width])
        row = rows.get(key)
        if row is None:
            row = rows[key] = RailAggregate(*key)
        row.volume += 1
        if rec.status == "settled":
            row.settled += 1
            row.amount[rec.currency] = row.amount.get(rec.currency, Decimal(0)) + rec.amount
        elif rec.status in FAILURE_STATUSES:
            row.failed += 1
    return [rows[k] for k in sorted(rows)]
