"""Semantic checks a schema cannot express: references between rules and rails, rules that
can never apply, fee schedules with holes, currencies a rail cannot carry."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from decimal import Decimal

import holidays

from routing.compiled import CompiledRule
from routing.config import RoutingConfig
from routing.issues import ConfigIssue, Severity
from routing.rules import (
    ConditionRule,
    DefaultRule,
    DesignatedRule,
    ExclusionRule,
    ProductRule,
    SplitRule,
    WhitelistRule,
)
from routing.yaml_lines import PathKey, path_text

Report = Callable[[PathKey, str, Severity], None]


def semantic_issues(
    config: RoutingConfig, line_of: Callable[[PathKey], int | None]
) -> list[ConfigIssue]:
    issues: list[ConfigIssue] = []

    def report(path: PathKey, message: str, severity: Severity = "error") -> None:
        issues.append(ConfigIssue(line_of(path), path_text(path), message, severity))

    _check_channels(config, report)
    _check_rule_references(config, report)
    _check_shadowing(config, report, line_of)
    return issues


def _check_channels(config: RoutingConfig, report: Report) -> None:
    seen: set[str] = set()
    supported = holidays.list_supported_countries()
    for i, spec in enumerate(config.channels):
        base: PathKey = ("channels", i)
        if spec.id in seen:
            report((*base, "id"), f"duplicate channel id '{spec.id}'", "error")
        seen.add(spec.id)
        carried = set(spec.currencies)
        for currency in spec.limits:
            if currency not in carried:
                report(
                    (*base, "limits", currency),
                    f"channel '{spec.id}' cannot carry {currency} (currencies: "
                    f"{', '.join(spec.currencies)})",
                    "error",
                )
        banded: dict[str, list[int]] = {}
        for j, band in enumerate(spec.fees):
            if band.currency not in carried:
                report(
                    (*base, "fees", j, "currency"),
                    f"fee band for {band.currency}, a currency channel '{spec.id}' cannot carry",
                    "error",
                )
            banded.setdefault(band.currency, []).append(j)
        for currency in spec.currencies:
            if currency not in banded:
                report((*base, "currencies"), f"no fee band for {currency}", "error")
        for currency, indexes in banded.items():
            _check_bands(config, i, currency, indexes, report)
        country = spec.calendar.holiday_country
        if country is not None and country not in supported:
            report(
                (*base, "calendar", "holiday_country"),
                f"no public holiday calendar for {country}",
                "error",
            )


def _check_bands(
    config: RoutingConfig, i: int, currency: str, indexes: list[int], report: Report
) -> None:
    spec = config.channels[i]
    bands = sorted(indexes, key=lambda j: spec.fees[j].from_)
    limits = spec.limits.get(currency)
    low = limits.min if limits is not None else Decimal(0)
    high = limits.max if limits is not None else None
    first = spec.fees[bands[0]]
    if first.from_ > low:
        report(
            ("channels", i, "fees", bands[0], "from"),
            f"gap in {currency} fee bands: amounts {low} to {first.from_} have no fee",
            "error",
        )
    for prev_j, next_j in itertools.pairwise(bands):
        prev, nxt = spec.fees[prev_j], spec.fees[next_j]
        path: PathKey = ("channels", i, "fees", next_j, "from")
        if prev.to is None or prev.to > nxt.from_:
            upto = "up" if prev.to is None else f"to {prev.to}"
            report(
                path,
                f"{currency} fee bands overlap: band from {prev.from_} {upto} and band from "
                f"{nxt.from_}",
                "error",
            )
        elif prev.to < nxt.from_:
            report(
                path,
                f"gap in {currency} fee bands: amounts {prev.to} to {nxt.from_} have no fee",
                "error",
            )
    last_j = bands[-1]
    last = spec.fees[last_j]
    if last.to is not None and (high is None or high >= last.to):
        top = "up" if high is None else f"to {high}"
        report(
            ("channels", i, "fees", last_j, "to"),
            f"gap in {currency} fee bands: amounts from {last.to} {top} have no fee",
            "error",
        )


def _named_channels(rule: object) -> list[tuple[PathKey, str]]:
    """(path inside the rule, channel id) for every channel a rule names."""
    if isinstance(rule, DesignatedRule):
        return [(("channel",), rule.channel)] + [
            (("fallbacks", k), c) for k, c in enumerate(rule.fallbacks)
        ]
    if isinstance(rule, WhitelistRule):
        return [(("channel",), rule.channel)]
    if isinstance(rule, SplitRule):
        return [(("shares", k, "channel"), s.channel) for k, s in enumerate(rule.shares)]
    if isinstance(rule, ProductRule | ExclusionRule | ConditionRule):
        return [(("channels", k), c) for k, c in enumerate(rule.channels)]
    if isinstance(rule, DefaultRule) and rule.channels:
        return [(("channels", k), c) for k, c in enumerate(rule.channels)]
    return []


def _check_rule_references(config: RoutingConfig, report: Report) -> None:
    specs = {spec.id: spec for spec in config.channels}
    seen: set[str] = set()
    for i, rule in enumerate(config.rules):
        base: PathKey = ("rules", i)
        if rule.id in seen:
            report((*base, "id"), f"duplicate rule id '{rule.id}'", "error")
        seen.add(rule.id)
        named = _named_channels(rule)
        for sub, channel in named:
            if channel not in specs:
                known = ", ".join(specs)
                report(
                    (*base, *sub),
                    f"rule '{rule.id}' names unknown channel '{channel}' (known: {known})",
                    "error",
                )
        if isinstance(rule, SplitRule):
            total = sum((s.percent for s in rule.shares), Decimal(0))
            if total != 100:
                report((*base, "shares"), f"split shares add up to {total}%, not 100%", "error")
        when = getattr(rule, "when", None)
        if when is None or when.currency is None or isinstance(rule, ExclusionRule):
            continue
        currencies = [when.currency] if isinstance(when.currency, str) else when.currency
        usable = [(sub, specs[c]) for sub, c in named if c in specs]
        for currency in currencies:
            unable = [(sub, s) for sub, s in usable if currency not in s.currencies]
            severity: Severity = "error" if len(unable) == len(usable) else "warning"
            for sub, spec in unable:
                report(
                    (*base, *sub),
                    f"rule '{rule.id}' routes {currency} to channel '{spec.id}', which cannot "
                    f"carry {currency}",
                    severity,
                )


def _covers(earlier: CompiledRule, later: CompiledRule) -> bool:
    if not earlier.match.covers(later.match):
        return False
    if earlier.whitelist is None:
        return True
    if later.whitelist is None:
        return False
    return all(
        mine >= theirs for mine, theirs in zip(earlier.whitelist, later.whitelist, strict=True)
    )


def _check_shadowing(
    config: RoutingConfig, report: Report, line_of: Callable[[PathKey], int | None]
) -> None:
    compiled = config.compiled.rules
    terminal = [r for r in compiled if r.kind != "exclusion"]
    for k, later in enumerate(terminal):
        for earlier in terminal[:k]:
            if not _covers(earlier, later):
                continue
            where = line_of(("rules", earlier.pos))
            at = f" (line {where})" if where is not None else ""
            why = (
                "which matches every payment"
                if earlier.kind == "default"
                else "whose conditions already match every payment it matches"
            )
            report(
                ("rules", later.pos),
                f"rule '{later.id}' is shadowed by earlier rule '{earlier.id}'{at}, {why}",
                "error",
            )
            break
