"""Fee savings of a merge against paying its items one by one."""

from __future__ import annotations

from decimal import Decimal

import pytest

from paygate.merging import merge_savings


def tariff(amount: Decimal) -> Decimal:
    # A batch-style tariff: 0.50 fixed + 0.1 %, at most 5.00.
    return min(Decimal("0.50") + amount * Decimal("0.001"), Decimal("5.00")).quantize(
        Decimal("0.01")
    )


def test_hundred_small_items_in_one_merge_save_over_ninety_five_percent() -> None:
    amounts = [Decimal("120.00")] * 100
    savings = merge_savings(amounts, Decimal("2.00"), tariff)
    assert savings.fee_if_single == Decimal("62.00")  # 100 x 0.62
    assert savings.fee_charged == Decimal("2.00")
    assert savings.saved == Decimal("60.00")
    assert savings.saved_pct == Decimal("96.77")


def test_merging_can_cost_more_and_says_so() -> None:
    savings = merge_savings([Decimal("1")], Decimal("2.00"), lambda _: Decimal("0.50"))
    assert savings.saved == Decimal("-1.50")
    assert savings.saved_pct == Decimal("-300.00")


def test_free_items_give_zero_percent_not_a_division_error() -> None:
    savings = merge_savings([Decimal("1"), Decimal("2")], Decimal("0"), lambda _: Decimal("0"))
    assert savings.saved == 0 and savings.saved_pct == Decimal("0.00")


def test_bad_fees_are_refused() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        merge_savings([Decimal("1")], Decimal("-1"), tariff)
    with pytest.raises(ValueError, match="not a valid fee"):
        merge_savings([Decimal("1")], Decimal("1"), lambda _: 0.5)  # type: ignore[arg-type,return-value]
