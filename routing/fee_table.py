"""A rail's fee bands for one currency as the ranking reads them: each fee together with
its amount in units of 0.0001 (see routing.scaled), and every fee that does not depend on
the amount (a fixed fee, a band's minimum or maximum) rounded once, when compiled.

Gives exactly `compiled.fee_from_bands`: the same band, the same clamps in the same order,
the same rounding; only the rounding of constants moves to compile time."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from routing.currency import quantum
from routing.scaled import units

if TYPE_CHECKING:
    from routing.compiled import Band

# A fee and the same fee in units of 0.0001.
Fee = tuple[Decimal, int]
# from, to, fixed, fraction, min, max; then the fee when the amount does not matter (no
# percentage), at the minimum and at the maximum, each rounded (None if rounding fails:
# it is then left to the decision, to fail there as `fee_from_bands` does).
_Row = tuple[
    Decimal,
    Decimal | None,
    Decimal,
    Decimal | None,
    Decimal | None,
    Decimal | None,
    Fee | None,
    Fee | None,
    Fee | None,
]


def _rounded(fee: Decimal | None, q: Decimal) -> Fee | None:
    if fee is None:
        return None
    try:
        fee = fee.quantize(q)
    except InvalidOperation:
        return None
    return (fee, units(fee))


def _clamped(fee: Decimal, low: Decimal | None, high: Decimal | None) -> Decimal:
    if low is not None and fee < low:
        fee = low
    if high is not None and fee > high:
        fee = high
    return fee


class FeeTable:
    __slots__ = ("quantum", "rows")

    def __init__(self, bands: tuple[Band, ...], currency: str) -> None:
        q = self.quantum = quantum(currency)
        self.rows: tuple[_Row, ...] = tuple(
            (
                lo,
                hi,
                fixed,
                fraction,
                low,
                high,
                _rounded(_clamped(fixed, low, high), q) if fraction is None else None,
                _rounded(low, q),
                _rounded(high, q),
            )
            for lo, hi, fixed, fraction, low, high in bands
        )

    def fee(self, amount: Decimal) -> Fee | None:
        """The fee for `amount`, or None when no band covers it."""
        for lo, hi, fixed, fraction, low, high, constant, at_low, at_high in self.rows:
            if amount >= lo and (hi is None or amount < hi):
                if fraction is None:
                    if constant is not None:
                        return constant
                    fee = _clamped(fixed, low, high)
                else:
                    fee = fixed + amount * fraction
                    if low is not None and fee < low:
                        if at_low is not None:
                            return at_low
                        fee = low
                    elif high is not None and fee > high:  # min <= max: a raised fee is not
                        if at_high is not None:
                            return at_high
                        fee = high
                fee = fee.quantize(self.quantum)
                return (fee, int(fee.scaleb(4)))  # `scaled.units` inlined: a call per fee
        return None
