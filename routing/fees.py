"""Fee schedules: what a rail charges for one payment."""

from __future__ import annotations

from decimal import Decimal

from routing.channels import ChannelSpec
from routing.compiled import compile_bands, fee_from_bands


class NoFeeBand(ValueError):
    """The schedule has no band for this currency and amount."""


def fee_for(spec: ChannelSpec, amount: Decimal, currency: str) -> Decimal:
    """Fee in `currency`, rounded to its minor unit: fixed + percent of amount, clamped."""
    fee = fee_from_bands(compile_bands(spec.fees).get(currency), amount, currency)
    if fee is None:
        raise NoFeeBand(f"channel {spec.id} has no fee band for {amount} {currency}")
    return fee
