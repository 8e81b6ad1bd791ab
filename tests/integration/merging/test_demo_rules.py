"""The demo's merge rules load and catch the demo's small-payment segments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import paygate.merging
from paygate.merging import MergeCandidate, eligible_rule, load_merge_config

DEMO = Path(paygate.merging.__file__).parent / "demo.yaml"
NOW = dt.datetime(2026, 11, 24, 9, 30, tzinfo=dt.UTC)


def item(amount: str, product: str | None, currency: str = "EUR") -> MergeCandidate:
    return MergeCandidate(
        payment_id="p",
        client="c",
        product=product,
        creditor_account="DE02120300000000202051",
        currency=currency,
        amount=Decimal(amount),
        received_at=NOW,
    )


def test_demo_rules_cover_payroll_suppliers_and_small_euro() -> None:
    config = load_merge_config(DEMO)

    def rule_of(candidate: MergeCandidate) -> str | None:
        rule = eligible_rule(candidate, config)
        return None if rule is None else rule.id

    assert rule_of(item("150.00", "payroll")) == "payroll-eur"
    assert rule_of(item("900.00", "supplier")) == "supplier-eur-small"
    assert rule_of(item("120.00", "vendor")) == "small-eur"
    # No product (e.g. an urgent payment): never held for a merge.
    assert rule_of(item("120.00", None)) is None
    assert rule_of(item("5000.00", "supplier")) is None
    assert rule_of(item("120.00", None, "CNY")) is None
    windows = {r.id: r.window.every_minutes for r in config.rules}
    assert windows["payroll-eur"] == 30
