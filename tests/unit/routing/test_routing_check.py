"""`check_config` and `load_config_text` on broken configurations: precise message, right line."""

from __future__ import annotations

import pytest

from routing import ConfigIssue, ConfigLoadError, check_config, load_config_text
from tests.unit.routing.routing_demo import DEMO

HEAD = """\
channels:
  - id: fast
    kind: instant
    currencies: [EUR]
    latency: {expected_seconds: 1}
    fees:
      - {currency: EUR, fixed: 0.5}
  - id: slow
    kind: batch
    currencies: [EUR, CNY]
    latency: {cycle_every_minutes: 30}
    fees:
      - {currency: EUR, fixed: 0.1}
      - {currency: CNY, fixed: 0.1}
"""


def errors(text: str) -> list[ConfigIssue]:
    return [i for i in check_config(text) if i.severity == "error"]


def test_demo_config_is_clean() -> None:
    assert check_config(DEMO) == []
    assert check_config(str(DEMO)) == []


def test_unknown_channel_in_rule() -> None:
    text = HEAD + "rules:\n  - {id: r1, kind: designated, channel: fast, fallbacks: [fats]}\n"
    [issue] = errors(text)
    assert issue.line == 16
    assert issue.path == "rules[0].fallbacks[0]"
    assert issue.message == "rule 'r1' names unknown channel 'fats' (known: fast, slow)"
    assert issue.format("cfg.yaml") == (
        "cfg.yaml:16: rules[0].fallbacks[0]: "
        "rule 'r1' names unknown channel 'fats' (known: fast, slow)"
    )


def test_rule_shadowed_by_earlier_rule() -> None:
    text = HEAD + (
        "rules:\n"
        "  - {id: eur, kind: condition, when: {currency: EUR}, channels: [fast]}\n"
        "  - {id: eur-big, kind: condition, when: {currency: EUR, min_amount: 1000},"
        " channels: [slow]}\n"
        "  - {id: all, kind: default}\n"
        "  - {id: late, kind: product, product: x, channels: [slow]}\n"
    )
    found = errors(text)
    assert [(i.line, i.message) for i in found] == [
        (
            17,
            "rule 'eur-big' is shadowed by earlier rule 'eur' (line 16), whose conditions already "
            "match every payment it matches",
        ),
        (
            19,
            "rule 'late' is shadowed by earlier rule 'all' (line 18), which matches every payment",
        ),
    ]


def test_narrower_then_broader_is_not_shadowed() -> None:
    text = HEAD + (
        "rules:\n"
        "  - {id: big, kind: condition, when: {currency: EUR, min_amount: 1000},"
        " channels: [slow]}\n"
        "  - {id: eur, kind: condition, when: {currency: [EUR, CNY]}, channels: [slow, fast]}\n"
        "  - {id: no-fast, kind: exclusion, when: {currency: EUR}, channels: [fast]}\n"
        "  - {id: all, kind: default}\n"
    )
    assert errors(text) == []
    [warning] = check_config(text)
    assert warning.message == "rule 'eur' routes CNY to channel 'fast', which cannot carry CNY"
    assert warning.severity == "warning"


def test_gaps_and_overlaps_in_fee_bands() -> None:
    text = HEAD.replace(
        "      - {currency: EUR, fixed: 0.5}\n",
        "      - {currency: EUR, from: 0, to: 100, fixed: 0.5}\n"
        "      - {currency: EUR, from: 200, to: 1000, fixed: 0.7}\n"
        "      - {currency: EUR, from: 900, to: 5000, fixed: 0.9}\n",
    )
    found = errors(text)
    assert [(i.line, i.path, i.message) for i in found] == [
        (8, "channels[0].fees[1].from", "gap in EUR fee bands: amounts 100 to 200 have no fee"),
        (
            9,
            "channels[0].fees[2].from",
            "EUR fee bands overlap: band from 200 to 1000 and band from 900",
        ),
        (9, "channels[0].fees[2].to", "gap in EUR fee bands: amounts from 5000 up have no fee"),
    ]


def test_currency_a_rail_cannot_carry() -> None:
    text = HEAD.replace(
        "      - {currency: EUR, fixed: 0.5}\n",
        "      - {currency: EUR, fixed: 0.5}\n      - {currency: GBP, fixed: 0.5}\n",
    )
    text += "rules:\n  - {id: cny-fast, kind: designated, when: {currency: CNY}, channel: fast}\n"
    found = errors(text)
    assert [(i.line, i.message) for i in found] == [
        (8, "fee band for GBP, a currency channel 'fast' cannot carry"),
        (17, "rule 'cny-fast' routes CNY to channel 'fast', which cannot carry CNY"),
    ]


def test_carried_currency_without_fee_band() -> None:
    text = HEAD.replace("      - {currency: CNY, fixed: 0.1}\n", "")
    [issue] = errors(text)
    assert (issue.line, issue.message) == (10, "no fee band for CNY")


def test_split_must_add_to_100() -> None:
    text = HEAD + (
        "rules:\n  - id: s\n    kind: split\n    shares:\n"
        "      - {channel: fast, percent: 60}\n      - {channel: slow, percent: 30}\n"
    )
    [issue] = errors(text)
    assert (issue.line, issue.message) == (18, "split shares add up to 90%, not 100%")


def test_schema_errors_point_at_their_line() -> None:
    text = HEAD.replace("kind: batch", "kind: bach").replace(
        "fixed: 0.5}", "fixed: 0.5, colour: red}"
    )
    found = errors(text)
    by_path = {i.path: (i.line, i.message) for i in found}
    assert by_path["channels[1].kind"][0] == 9
    assert "rtgs" in by_path["channels[1].kind"][1]
    assert by_path["channels[0].fees[0].colour"] == (7, "unknown field")


def test_missing_field_in_rule_points_at_rule() -> None:
    text = HEAD + "rules:\n  - {id: d, kind: designated}\n"
    [issue] = errors(text)
    assert (issue.line, issue.path, issue.message) == (16, "rules[0].channel", "Field required")


def test_yaml_syntax_error() -> None:
    [issue] = errors("channels:\n  - id: [unclosed\n")
    assert issue.line == 3 and issue.message.startswith("YAML syntax")


def test_yaml_times_and_norway_stay_strings() -> None:
    text = HEAD.replace(
        "    latency: {expected_seconds: 1}\n",
        "    latency: {expected_seconds: 1}\n"
        "    domestic_countries: [NO]\n"
        "    calendar:\n      timezone: Europe/Oslo\n      cutoff: 17:00\n"
        "      hours: [{open: 08:00, close: 18:30}]\n",
        1,
    )
    config = load_config_text(text)
    fast = config.channel("fast")
    assert fast is not None and fast.domestic_countries == ["NO"]
    assert str(fast.calendar.cutoff) == "17:00:00"


def test_load_raises_with_every_error() -> None:
    text = (
        HEAD + "rules:\n  - {id: a, kind: designated, channel: nope}\n  - {id: a, kind: default}\n"
    )
    with pytest.raises(ConfigLoadError) as caught:
        load_config_text(text, source="x.yaml")
    # The unconditional designated rule 'a' also shadows the default below it.
    assert [i.line for i in caught.value.issues] == [16, 17, 17]
    assert "x.yaml:16: rules[0].channel: rule 'a' names unknown channel 'nope'" in str(caught.value)
    assert "duplicate rule id 'a'" in str(caught.value)
