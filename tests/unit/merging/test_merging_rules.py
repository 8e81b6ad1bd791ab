"""Loading merge rules (precise errors) and choosing the rule for an item."""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal
from pathlib import Path

import pytest

from paygate.errors import ConfigError
from paygate.merging import (
    MergeCandidate,
    MergeConfigError,
    eligible_rule,
    load_merge_config,
    load_merge_config_text,
)

EXAMPLE = Path(__file__).parents[3] / "paygate" / "merging" / "rules.example.yaml"

GOOD = """
version: 3
rules:
  - id: tiny
    match: {products: [loan], currency: CNY}
    max_item_amount: 100
    channels: [batch]
    window: {every_minutes: 10, timezone: Asia/Shanghai}
  - id: loans
    match: {products: [loan]}
    max_item_amount: "50000.00"
    channels: [batch, citybank]
    window: {at: ["11:30", "09:00"], timezone: Asia/Shanghai}
    close_early_at_items: 100
    close_early_at_amount: 0.3E+6
  - id: payee
    match: {creditor_accounts: [ACC1], payee_ids: [P9], clients: [c1]}
    max_item_amount: 10
    channels: [batch]
    window: {every_minutes: 60}
    on_reject: individual
"""


def candidate(**overrides: object) -> MergeCandidate:
    fields: dict[str, object] = {
        "payment_id": "p1",
        "client": "c1",
        "product": "loan",
        "creditor_account": "ACC1",
        "currency": "CNY",
        "amount": Decimal("10.00"),
        "received_at": datetime(2024, 6, 3, 10, 0, tzinfo=UTC),
    }
    fields.update(overrides)
    return MergeCandidate(**fields)  # type: ignore[arg-type]


def load_error(text: str) -> MergeConfigError:
    with pytest.raises(MergeConfigError) as caught:
        load_merge_config_text(text, source="merge.yaml")
    return caught.value


def rule_yaml(**fields: str) -> str:
    base = {
        "id": "r1",
        "max_item_amount": "100",
        "channels": "[batch]",
        "window": "{every_minutes: 10}",
    }
    base.update(fields)
    body = "\n".join(f"    {key}: {value}" for key, value in base.items() if value != "")
    return f"version: v1\nrules:\n  - {body.lstrip()}\n"


def test_good_config_loads_with_decimal_amounts_and_sorted_times() -> None:
    config = load_merge_config_text(GOOD)
    assert config.version == "3"
    tiny, loans, payee = config.rules
    assert tiny.max_item_amount == Decimal("100")
    assert loans.close_early_at_amount == Decimal("300000")
    assert isinstance(loans.close_early_at_amount, Decimal)
    assert loans.window.at == (time(9, 0), time(11, 30))
    assert loans.on_reject == "next_window" and payee.on_reject == "individual"
    assert tiny.safety_margin_minutes == 2 and tiny.split_by_client


def test_example_file_loads() -> None:
    config = load_merge_config(EXAMPLE)
    assert [r.id for r in config.rules] == ["loans-small", "merchant-t0", "payroll-eur"]


def test_errors_name_the_rule_and_the_field() -> None:
    error = load_error(rule_yaml(window="{every_minutes: 0}"))
    assert isinstance(error, ConfigError)
    assert "rule 'r1' /rules/0/window/every_minutes" in error.detail
    assert [e.pointer for e in error.errors] == ["/rules/0/window/every_minutes"]


@pytest.mark.parametrize(
    ("fields", "pointer", "reason"),
    [
        ({"window": "{every_minutes: 5, at: ['10:00']}"}, "/rules/0/window", "exactly one of"),
        ({"window": "{timezone: UTC}"}, "/rules/0/window", "exactly one of"),
        ({"window": "{at: ['25:00']}"}, "/rules/0/window/at", "'25:00' is not HH:MM"),
        ({"window": "{at: [10:30]}"}, "/rules/0/window/at", "quote times, e.g. '10:30'"),
        ({"window": "{at: []}"}, "/rules/0/window/at", "at least one time"),
        ({"window": "{at: ['10:00', '10:00']}"}, "/rules/0/window/at", "same time twice"),
        ({"window": "{every_minutes: 5, timezone: Mars/Base}"}, "/rules/0/window/timezone", "Mars"),
        ({"window": "{every_minute: 5}"}, "/rules/0/window/every_minute", "Extra inputs"),
        ({"max_item_amount": "-1"}, "/rules/0/max_item_amount", "greater than 0"),
        ({"max_item_amount": ".nan"}, "/rules/0/max_item_amount", "finite"),
        ({"max_item_amount": ""}, "/rules/0/max_item_amount", "Field required"),
        ({"channels": "[]"}, "/rules/0/channels", "at least 1"),
        ({"channels": "[batch, batch]"}, "/rules/0/channels", "same rail twice"),
        ({"close_early_at_items": "1"}, "/rules/0/close_early_at_items", "greater than or equal"),
        ({"close_early_at_amount": "50"}, "/rules/0", "below max_item_amount 100"),
        ({"on_reject": "retry"}, "/rules/0/on_reject", "next_window"),
        ({"match": "{currency: XAU}"}, "/rules/0/match/currency", "no minor unit"),
        ({"match": "{currency: eur}"}, "/rules/0/match/currency", "3-letter"),
        ({"match": "{product: [x]}"}, "/rules/0/match/product", "Extra inputs"),
        ({"id": "'bad id'"}, "/rules/0/id", "letters, digits"),
        ({"safety_margin_minutes": "-2"}, "/rules/0/safety_margin_minutes", "greater than"),
    ],
)
def test_bad_rule_is_reported_precisely(fields: dict[str, str], pointer: str, reason: str) -> None:
    error = load_error(rule_yaml(**fields))
    assert len(error.errors) == 1, error.detail
    assert error.errors[0].pointer == pointer
    assert reason in error.errors[0].reason
    assert error.detail.startswith("merge.yaml is not valid")


def test_duplicate_rule_ids_are_reported_with_both_positions() -> None:
    one = rule_yaml().split("rules:\n", 1)[1]
    error = load_error(f"version: v1\nrules:\n{one}{one}")
    assert error.errors[0].pointer == "/rules"
    assert "duplicate rule id 'r1' at rules[1] (first at rules[0])" in error.errors[0].reason


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules: [", "not valid YAML at line 1"),
        ("- 1\n", "expected a mapping"),
        ("", "expected a mapping"),
        ("rules: []\n", "/version: Field required"),
        ("version: ''\nrules: []\n", "version must not be empty"),
    ],
)
def test_bad_document_is_reported(text: str, message: str) -> None:
    assert message in load_error(text).detail


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(MergeConfigError, match="cannot read merge config"):
        load_merge_config(tmp_path / "absent.yaml")


def test_first_accepting_rule_wins_and_threshold_falls_through() -> None:
    config = load_merge_config_text(GOOD)
    assert eligible_rule(candidate(amount=Decimal("100")), config).id == "tiny"  # type: ignore[union-attr]
    # Above the tiny threshold: the next rule that accepts it.
    assert eligible_rule(candidate(amount=Decimal("100.01")), config).id == "loans"  # type: ignore[union-attr]
    assert eligible_rule(candidate(amount=Decimal("50000.01")), config) is None


def test_each_match_dimension_constrains() -> None:
    config = load_merge_config_text(GOOD)
    # Not a loan: only the payee rule could take it, and it matches account or payee id.
    other = {"product": "card", "amount": Decimal("5")}
    assert eligible_rule(candidate(**other), config).id == "payee"  # type: ignore[union-attr]
    by_id = candidate(**other, creditor_account="ACC2", payee_id="P9")
    assert eligible_rule(by_id, config).id == "payee"  # type: ignore[union-attr]
    assert eligible_rule(candidate(**other, creditor_account="ACC2"), config) is None
    assert eligible_rule(candidate(**other, client="c2"), config) is None
    assert eligible_rule(candidate(product=None, amount=Decimal("50")), config) is None
    # Currency-restricted rule skipped for EUR; the broader loans rule takes it.
    assert eligible_rule(candidate(currency="EUR"), config).id == "loans"  # type: ignore[union-attr]


def test_candidate_refuses_float_naive_times_and_non_positive_amounts() -> None:
    with pytest.raises(ValueError, match="finite Decimal"):
        candidate(amount=10.0)
    with pytest.raises(ValueError, match="greater than zero"):
        candidate(amount=Decimal("0"))
    with pytest.raises(ValueError, match="timezone-aware"):
        candidate(received_at=datetime(2024, 6, 3, 10, 0))
    with pytest.raises(ValueError, match="deadline must be timezone-aware"):
        candidate(deadline=datetime(2024, 6, 3, 10, 0))
