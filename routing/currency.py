"""Minor units per currency, so fees are rounded the way the rail books them.

Kept local because `routing` may not import `paygate.domain`; the few currencies the
rails here carry are listed, every other ISO 4217 code defaults to two decimals.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

_MINOR_UNITS: dict[str, int] = {
    "JPY": 0,
    "KRW": 0,
    "CLP": 0,
    "ISK": 0,
    "BHD": 3,
    "KWD": 3,
    "OMR": 3,
    "JOD": 3,
    "TND": 3,
}

_QUANTA: dict[int, Decimal] = {n: Decimal(1).scaleb(-n) for n in range(4)}


def quantum(currency: str) -> Decimal:
    """The smallest amount of `currency` (0.01 for EUR, 1 for JPY)."""
    return _QUANTA[_MINOR_UNITS.get(currency, 2)]


def round_money(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_UP)
