"""What merging saved: the fee actually charged for one merge against what its items
would have cost paid one by one. Pure; the fee functions come from the rails' tariffs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

_PERCENT_PLACES = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Savings:
    fee_charged: Decimal
    fee_if_single: Decimal
    # Negative when merging cost more (e.g. a purely percentage tariff with a high minimum).
    saved: Decimal
    # Percentage of ``fee_if_single``, two places; 0 when the items would have been free.
    saved_pct: Decimal


def merge_savings(
    item_amounts: Sequence[Decimal],
    merged_fee: Decimal,
    fee_of_single: Callable[[Decimal], Decimal],
) -> Savings:
    """Compare ``merged_fee`` with the sum of ``fee_of_single(amount)`` over the items."""
    if not merged_fee.is_finite() or merged_fee < 0:
        raise ValueError(f"merged fee must be a non-negative amount, got {merged_fee}")
    fee_if_single = Decimal(0)
    for amount in item_amounts:
        fee = fee_of_single(amount)
        if not isinstance(fee, Decimal) or not fee.is_finite() or fee < 0:
            raise ValueError(f"fee for a single payment of {amount} is not a valid fee: {fee!r}")
        fee_if_single += fee
    saved = fee_if_single - merged_fee
    if fee_if_single == 0:
        pct = Decimal("0.00")
    else:
        pct = (saved * 100 / fee_if_single).quantize(_PERCENT_PLACES, rounding=ROUND_HALF_EVEN)
    return Savings(fee_charged=merged_fee, fee_if_single=fee_if_single, saved=saved, saved_pct=pct)
