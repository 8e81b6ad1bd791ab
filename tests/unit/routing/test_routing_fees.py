from __future__ import annotations

from decimal import Decimal

import pytest

from routing import ChannelSpec, NoFeeBand, RoutingConfig, fee_for


def spec(demo: RoutingConfig, channel: str) -> ChannelSpec:
    found = demo.channel(channel)
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("channel", "amount", "currency", "fee"),
    [
        ("rtgs", "1000", "EUR", "2.50"),
        ("rtgs", "1000", "USD", "2.50"),
        ("rtgs", "1000", "CNY", "15.00"),
        ("batch", "1000", "EUR", "0.20"),
        ("instant", "99999", "CNY", "0.80"),
        ("card", "100", "CNY", "1.00"),  # 0.6% = 0.60, raised to the 1.00 minimum
        ("card", "1000", "EUR", "6.00"),
        ("card", "10000", "EUR", "50.00"),  # 60.00 capped at 50.00
        ("citybank", "123.45", "CNY", "1.00"),
        ("cips", "1000", "CNY", "20.10"),  # 20.00 + 0.01%
        ("cips", "5000000", "CNY", "200.00"),  # 520.00 capped
        ("swift", "10000", "USD", "30.00"),  # 25.00 + 0.05%
        ("swift", "1000000", "GBP", "150.00"),
        ("swift", "12345", "JPY", "31"),  # 31.1725 rounded to whole yen
        ("swift", "1001", "EUR", "25.50"),  # 25.5005 rounded half up
    ],
)
def test_demo_tariffs(
    demo: RoutingConfig, channel: str, amount: str, currency: str, fee: str
) -> None:
    assert fee_for(spec(demo, channel), Decimal(amount), currency) == Decimal(fee)


def test_bands_by_amount() -> None:
    rail = ChannelSpec.model_validate(
        {
            "id": "tiered",
            "kind": "batch",
            "currencies": ["EUR"],
            "latency": {"expected_seconds": 1},
            "fees": [
                {"currency": "EUR", "from": 0, "to": 1000, "fixed": "0.10"},
                {"currency": "EUR", "from": 1000, "fixed": "1", "percent": "0.1", "max": "5"},
            ],
        }
    )
    assert fee_for(rail, Decimal("999.99"), "EUR") == Decimal("0.10")
    assert fee_for(rail, Decimal("1000"), "EUR") == Decimal("2.00")
    assert fee_for(rail, Decimal("1000000"), "EUR") == Decimal("5")
    with pytest.raises(NoFeeBand, match="no fee band for 10 USD"):
        fee_for(rail, Decimal(10), "USD")


@pytest.mark.parametrize("amount", ["0.01", "100", "166.67", "1000", "8333.33", "10000", "1e20"])
def test_a_fee_tables_units_are_its_fee_in_ten_thousandths(
    demo: RoutingConfig, amount: str
) -> None:
    from routing.scaled import units

    for ch in demo.compiled.channels:
        for table in ch.fee_tables.values():
            found = table.fee(Decimal(amount))
            if found is not None:
                assert found[1] == units(found[0])
