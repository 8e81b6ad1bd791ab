"""Merge rules: which small payments may be merged (并笔), under which window and caps.

Operator data, validated on load and versioned like the routing configuration. A rule
matches on product, business category, client, payee (creditor account or payee id) and
currency; each list left empty matches anything. Payee accounts and payee ids are
alternatives (either identifies the payee); every other non-empty list must match.

Rules are tried in order and the first whose match *and* amount threshold both accept
the item wins, so a narrow rule for tiny items can sit in front of a broader one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import time
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from paygate.domain import CurrencyError, json_pointer, minor_units
from paygate.errors import ConfigError, FieldError

if TYPE_CHECKING:
    from paygate.merging.planner import MergeCandidate

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_RULE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class MergeConfigError(ConfigError):
    """The merge configuration does not load; ``errors`` point at each bad field."""

    def __init__(self, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.errors = errors or []


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """The ``ZoneInfo`` for ``name``; cached because the planner asks once per bucket."""
    return ZoneInfo(name)


def _money(raw: Any) -> Any:
    # YAML reads 0.50 as a float; go through its shortest repr so 0.1 stays 0.1, never
    # 0.1000000000000000055511151231257827.
    if isinstance(raw, float):
        return Decimal(repr(raw))
    return raw


class _Strict(BaseModel):
    # A misspelt key (``every_minute``) must fail loudly, not silently fall back to a default.
    model_config = ConfigDict(extra="forbid", frozen=True)


class MergeMatch(_Strict):
    """Which items a rule accepts. Empty lists (and ``currency: null``) match anything."""

    products: frozenset[str] = frozenset()
    business_categories: frozenset[str] = frozenset()
    clients: frozenset[str] = frozenset()
    creditor_accounts: frozenset[str] = frozenset()
    payee_ids: frozenset[str] = frozenset()
    currency: str | None = None

    @field_validator("currency")
    @classmethod
    def _currency(cls, code: str | None) -> str | None:
        if code is None:
            return None
        if len(code) != 3 or not code.isalpha() or not code.isupper():
            raise ValueError("currency must be a 3-letter upper-case ISO 4217 code")
        try:
            minor_units(code)
        except CurrencyError as exc:
            raise ValueError(str(exc)) from None
        return code


class MergeWindow(_Strict):
    """When a bucket closes: every N minutes (wall clock, aligned to the epoch) or at fixed
    local times. Both are read in ``timezone``."""

    every_minutes: int | None = Field(default=None, ge=1, le=1440)
    at: tuple[time, ...] | None = None
    timezone: str = "UTC"

    @field_validator("at", mode="before")
    @classmethod
    def _times(cls, raw: Any) -> Any:
        if raw is None:
            return None
        if not isinstance(raw, list | tuple):
            raise ValueError("at must be a list of 'HH:MM' times")
        parsed: list[time] = []
        for value in raw:
            if isinstance(value, time):
                parsed.append(value)
                continue
            if isinstance(value, int):
                # YAML 1.1 reads an unquoted 10:30 as the base-60 integer 630.
                hours, minutes = divmod(value, 60)
                raise ValueError(
                    f"time {value} is a number (YAML reads an unquoted {hours}:{minutes:02d} in "
                    f"base 60): quote times, e.g. '{hours:02d}:{minutes:02d}'"
                )
            match = _HHMM.match(str(value))
            if match is None:
                raise ValueError(f"time {value!r} is not HH:MM (00:00 to 23:59)")
            parsed.append(time(int(match.group(1)), int(match.group(2))))
        if not parsed:
            raise ValueError("at needs at least one time")
        if len(set(parsed)) != len(parsed):
            raise ValueError("at lists the same time twice")
        return tuple(sorted(parsed))

    @field_validator("timezone")
    @classmethod
    def _zone(cls, name: str) -> str:
        try:
            zone(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {name!r}") from None
        return name

    @model_validator(mode="after")
    def _one_kind(self) -> MergeWindow:
        if (self.every_minutes is None) == (self.at is None):
            raise ValueError("window needs exactly one of every_minutes or at")
        return self


class MergeRule(_Strict):
    id: str
    match: MergeMatch = MergeMatch()
    max_item_amount: Decimal = Field(gt=0, allow_inf_nan=False)
    channels: tuple[str, ...] = Field(min_length=1)
    window: MergeWindow
    close_early_at_items: int | None = Field(default=None, ge=2)
    close_early_at_amount: Decimal | None = Field(default=None, gt=0, allow_inf_nan=False)
    on_reject: Literal["next_window", "individual"] = "next_window"
    # Time kept in hand before a deadline or cut-off for closing, routing and sending.
    safety_margin_minutes: int = Field(default=2, ge=0, le=1440)
    # A merged payment has one debtor; merging across clients is only right when they
    # share the debit account, so the safe default keeps clients apart.
    split_by_client: bool = True

    @field_validator("max_item_amount", "close_early_at_amount", mode="before")
    @classmethod
    def _amounts(cls, raw: Any) -> Any:
        return _money(raw)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _RULE_ID.match(value):
            raise ValueError("id must be 1-64 letters, digits, '_', '.' or '-'")
        return value

    @field_validator("channels")
    @classmethod
    def _channels(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not c.strip() for c in value):
            raise ValueError("channel names must not be empty")
        if len(set(value)) != len(value):
            raise ValueError("channels lists the same rail twice")
        return value

    @model_validator(mode="after")
    def _cap_fits_an_item(self) -> MergeRule:
        # An eligible item larger than the amount cap could never join any merge.
        cap = self.close_early_at_amount
        if cap is not None and cap < self.max_item_amount:
            raise ValueError(
                f"close_early_at_amount {cap} is below max_item_amount {self.max_item_amount}"
            )
        return self


class MergeConfig(_Strict):
    version: str
    rules: tuple[MergeRule, ...] = ()

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, raw: Any) -> Any:
        # ``version: 3`` in YAML is an int; a version is a label, keep it as text.
        return str(raw) if isinstance(raw, int) and not isinstance(raw, bool) else raw

    @field_validator("version")
    @classmethod
    def _version_text(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("version must not be empty")
        return value

    @field_validator("rules")
    @classmethod
    def _unique_ids(cls, rules: tuple[MergeRule, ...]) -> tuple[MergeRule, ...]:
        first: dict[str, int] = {}
        for index, rule in enumerate(rules):
            if rule.id in first:
                earlier = first[rule.id]
                raise ValueError(
                    f"duplicate rule id {rule.id!r} at rules[{index}] (first at rules[{earlier}])"
                )
            first[rule.id] = index
        return rules

    def rule(self, rule_id: str) -> MergeRule | None:
        return next((r for r in self.rules if r.id == rule_id), None)


def rule_accepts(rule: MergeRule, item: MergeCandidate) -> bool:
    """Whether ``rule`` matches ``item`` and the item is within the rule's threshold."""
    if item.amount > rule.max_item_amount:
        return False
    m = rule.match
    if m.currency is not None and item.currency != m.currency:
        return False
    if m.products and item.product not in m.products:
        return False
    if m.business_categories and item.business_category not in m.business_categories:
        return False
    if m.clients and item.client not in m.clients:
        return False
    if m.creditor_accounts or m.payee_ids:
        return item.creditor_account in m.creditor_accounts or (
            item.payee_id is not None and item.payee_id in m.payee_ids
        )
    return True


def eligible_rule(item: MergeCandidate, config: MergeConfig) -> MergeRule | None:
    """The first rule that accepts ``item``, or ``None``: the item is paid on its own."""
    for rule in config.rules:
        if rule_accepts(rule, item):
            return rule
    return None


def _describe(loc: Sequence[int | str], data: Any) -> str:
    # Name the rule by its id so an operator with 40 rules does not count list indexes.
    pointer = json_pointer(tuple(loc)) or "/"
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int) and isinstance(data, dict):
        rules = data.get("rules")
        if isinstance(rules, list) and loc[1] < len(rules) and isinstance(rules[loc[1]], dict):
            rule_id = rules[loc[1]].get("id")
            if rule_id is not None:
                return f"rule {rule_id!r} {pointer}"
    return pointer


def _config_errors(exc: ValidationError, data: Any) -> list[tuple[str, FieldError]]:
    out = []
    for err in exc.errors(include_url=False):
        # pydantic appends validator tags such as 'function-after[...]'; they are not fields.
        loc = tuple(
            p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or "function" in p))
        )
        reason = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        out.append((_describe(loc, data), FieldError(json_pointer(loc), reason)))
    return out


def parse_merge_config(data: Any, source: str = "merge config") -> MergeConfig:
    """Validate already-parsed data (a mapping) as a ``MergeConfig``."""
    if not isinstance(data, dict):
        raise MergeConfigError(
            f"{source}: expected a mapping with 'version' and 'rules'",
            [FieldError("", "expected a mapping")],
        )
    try:
        return MergeConfig.model_validate(data)
    except ValidationError as exc:
        described = _config_errors(exc, data)
        lines = "\n".join(f"  {where}: {fe.reason}" for where, fe in described)
        raise MergeConfigError(
            f"{source} is not valid:\n{lines}", [fe for _, fe in described]
        ) from None


def load_merge_config_text(text: str, source: str = "merge config") -> MergeConfig:
    """Parse YAML (or JSON) ``text`` into a validated ``MergeConfig``."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise MergeConfigError(f"{source} is not valid YAML{where}: {problem}") from None
    return parse_merge_config(data, source)


def load_merge_config(path: str | Path) -> MergeConfig:
    """Read and validate the merge configuration file at ``path``."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise MergeConfigError(f"cannot read merge config {path}: {exc.strerror or exc}") from None
    return load_merge_config_text(text, source=str(path))
