"""Scores as exact integers, for ranking without Decimal arithmetic.

Every term of a score is a non-negative Decimal with at most four decimals (fees are
rounded to a currency's minor unit, penalties to 0.0001), so in units of 10**-4 times the
weights' own scale each term, and the weighted sum, is an integer. Integers compare exactly
as the Decimals do, so the ranking and its ties are unchanged. The Decimal sum rounds only
past the context's 28 digits; a score that large raises `Inexact` and the caller ranks again
with Decimals.

The risk penalty, `(odds * exposure).quantize(Decimal("0.0001"))`, becomes
`int((odds_units * exposure).quantize(Decimal(1)))` with the odds in units of 0.0001 (an
integral Decimal): the same digits, rounded at the same place."""

from __future__ import annotations

from decimal import Decimal

# A score in these units below this has fewer than 28 digits: its Decimal form was exact.
EXACT_LIMIT = 10**27


class Inexact(ArithmeticError):
    """A score too large for the integer ranking to be sure of matching the Decimal one."""


def units(value: Decimal) -> int:
    """`value` (at most four decimals) in units of 0.0001."""
    return int(value.scaleb(4))


def weight_units(weights: tuple[Decimal, Decimal, Decimal]) -> tuple[int, int, int]:
    """Fee, latency and risk weights as integers over one common power of ten (the same for
    every rail of a decision, so comparisons within it are unchanged)."""
    shift = max(0, *(-int(w.as_tuple().exponent) for w in weights))
    return (
        int(weights[0].scaleb(shift)),
        int(weights[1].scaleb(shift)),
        int(weights[2].scaleb(shift)),
    )
