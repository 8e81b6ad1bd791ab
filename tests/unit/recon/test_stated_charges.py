"""A charge the statement declares inside a line's amount is a fee; an unexplained
difference, however small, is an amount mismatch under the default tolerances."""

from __future__ import annotations

from decimal import Decimal

import pytest

from paygate.recon.breaks import Action, BreakKind
from paygate.recon.matching import Tolerances, match
from paygate.recon.service import stated_charge
from tests.unit.recon.recon_factories import AS_OF, line_for, rec

DEFAULT = Tolerances()


@pytest.mark.parametrize("extra", ["1.50", "5.00", "12.00"])
def test_declared_charge_is_fee_deducted(extra: str) -> None:
    r = rec(1)
    line = line_for(r, amount=r.amount + Decimal(extra))
    result = match(
        [r], [line], tolerances=DEFAULT, as_of=AS_OF, charges={line.line_id: Decimal(extra)}
    )
    (b,) = result.breaks
    assert (b.kind, b.action) == (BreakKind.FEE_DEDUCTED, Action.FEE_POSTING)


@pytest.mark.parametrize("delta", ["0.01", "1.00", "10.00", "-0.01"])
def test_undeclared_difference_is_amount_mismatch(delta: str) -> None:
    r = rec(1)
    line = line_for(r, amount=r.amount + Decimal(delta))
    (b,) = match([r], [line], tolerances=DEFAULT, as_of=AS_OF).breaks
    assert b.kind is BreakKind.AMOUNT_MISMATCH


def test_declared_charge_that_does_not_explain_the_difference_is_a_mismatch() -> None:
    r = rec(1)
    line = line_for(r, amount=r.amount + Decimal("7.00"))
    charges = {line.line_id: Decimal("5.00")}
    (b,) = match([r], [line], tolerances=DEFAULT, as_of=AS_OF, charges=charges).breaks
    assert b.kind is BreakKind.AMOUNT_MISMATCH
    big = Tolerances(stated_charge_max=Decimal("4.00"))
    charges = {line.line_id: Decimal("7.00")}
    (b,) = match([r], [line], tolerances=big, as_of=AS_OF, charges=charges).breaks
    assert b.kind is BreakKind.AMOUNT_MISMATCH


def teststated_charge_read_from_camt_fees_or_mt940_chgs() -> None:
    assert stated_charge(Decimal("5.00"), None) == Decimal("5.00")
    assert stated_charge(None, "/EREF/E1 /TXID/T1 /CHGS/12,00") == Decimal("12.00")
    assert stated_charge(None, "/CHGS/EUR1.50") == Decimal("1.50")
    assert stated_charge(None, "/EREF/E1") is None
