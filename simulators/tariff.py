"""Fee schedules: fixed (per currency) + percentage, clamped to min/max, in minor units."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

# Currencies this simulator knows with a minor-unit count other than 2.
_MINOR_UNITS = {"JPY": 0, "KRW": 0, "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3}


def minor_units(currency: str) -> int:
    return _MINOR_UNITS.get(currency, 2)


def quantize(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-minor_units(currency)), rounding=ROUND_HALF_UP)


@dataclass
class Tariff:
    fixed: Decimal = Decimal(0)
    fixed_by_currency: dict[str, Decimal] = field(default_factory=dict)
    percent: Decimal = Decimal(0)  # 0.05 means 0.05 %
    min_fee: Decimal | None = None
    max_fee: Decimal | None = None

    def fee(self, amount: Decimal, currency: str) -> Decimal:
        fee = self.fixed_by_currency.get(currency, self.fixed) + amount * self.percent / 100
        if self.min_fee is not None:
            fee = max(fee, self.min_fee)
        if self.max_fee is not None:
            fee = min(fee, self.max_fee)
        return quantize(fee, currency)

    def describe(self) -> dict[str, Any]:
        return {
            "fixed": str(self.fixed),
            "fixed_by_currency": {k: str(v) for k, v in self.fixed_by_currency.items()},
            "percent": str(self.percent),
            "min": str(self.min_fee) if self.min_fee is not None else None,
            "max": str(self.max_fee) if self.max_fee is not None else None,
        }
