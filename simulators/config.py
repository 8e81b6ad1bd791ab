"""rails.yaml: which rails run, and each rail's protocol, tariff, limits, hours and behaviour."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from simulators.behaviour import Behaviour, ProfileError, parse_behaviour
from simulators.business_hours import DAY_NAMES, BusinessHours
from simulators.clock import _as_utc
from simulators.tariff import Tariff

DEFAULT_CONFIG_PATH = Path(__file__).resolve().parent / "rails.yaml"

PROTOCOLS = ("pacs008", "json", "mt103")
OUTSIDE_HOURS = ("reject", "queue")
SETTLEMENT_MODES = ("immediate", "cycle")


class ConfigError(ValueError):
    """rails.yaml is invalid; the message names the rail and the key."""


@dataclass
class Limits:
    min_amount: Decimal = Decimal("0.01")
    max_amount: Decimal | None = None
    daily_amount: Decimal | None = None
    daily_count: int | None = None

    def describe(self) -> dict[str, Any]:
        return {
            "min_amount": str(self.min_amount),
            "max_amount": _opt(self.max_amount),
            "daily_amount": _opt(self.daily_amount),
            "daily_count": self.daily_count,
        }


@dataclass
class RailConfig:
    id: str
    protocols: tuple[str, ...]
    currencies: tuple[str, ...]
    code: str = ""  # short upper-case code used in bank references and statement ids
    port: int | None = None
    port_offset: int = 0
    account: str = ""
    tariff: Tariff = field(default_factory=Tariff)
    limits: Limits = field(default_factory=Limits)
    hours: BusinessHours = field(default_factory=BusinessHours)
    outside_hours: str = "reject"  # reject -> RJCT CUTA; queue -> ACSP, settles at next opening
    settlement: str = "immediate"
    cycle_minutes: int = 30
    require_lei: bool = False
    opening_balances: dict[str, Decimal] = field(default_factory=dict)
    callback_url: str | None = None
    closed_accounts: frozenset[str] = frozenset()
    blocked_accounts: frozenset[str] = frozenset()
    behaviour: Behaviour = field(default_factory=Behaviour)


@dataclass
class RailsConfig:
    rails: dict[str, RailConfig]
    clock_start: datetime | None = None
    clock_speed: float = 1.0
    port_base: int | None = None  # None: every rail without a fixed port gets an ephemeral one


def _opt(value: Decimal | None) -> str | None:
    return str(value) if value is not None else None


def _dec(value: Any, where: str) -> Decimal:
    if isinstance(value, float):
        # YAML floats would smuggle binary rounding into money; insist on strings or ints.
        raise ConfigError(f"{where}: write money as a quoted string, not a float")
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise ConfigError(f"{where}: not a decimal: {value!r}") from exc


def _opt_dec(value: Any, where: str) -> Decimal | None:
    return None if value is None else _dec(value, where)


def _time(value: Any, where: str) -> time:
    if isinstance(value, int):  # YAML 1.1 reads 09:00 unquoted as sexagesimal minutes
        return time(value // 60, value % 60)
    try:
        return time.fromisoformat(str(value))
    except ValueError as exc:
        raise ConfigError(f"{where}: not a HH:MM time: {value!r}") from exc


def _hours(data: dict[str, Any] | None, where: str) -> BusinessHours:
    if not data:
        return BusinessHours()
    days_raw = data.get("days", list(DAY_NAMES))
    try:
        days = frozenset(DAY_NAMES.index(str(d).lower()[:3]) for d in days_raw)
    except ValueError as exc:
        raise ConfigError(f"{where}.days: use mon..sun") from exc
    close = data.get("close")
    cutoff = data.get("cutoff")
    try:
        return BusinessHours(
            tz=str(data.get("tz", "UTC")),
            days=days,
            open=_time(data.get("open", "00:00"), f"{where}.open"),
            close=_time(close, f"{where}.close") if close is not None else None,
            cutoff=_time(cutoff, f"{where}.cutoff") if cutoff is not None else None,
            holiday_country=data.get("holidays"),
        )
    except (KeyError, NotImplementedError, ValueError) as exc:  # bad tz or holiday country
        raise ConfigError(f"{where}: {exc}") from exc


def _tariff(data: dict[str, Any] | None, where: str) -> Tariff:
    if not data:
        return Tariff()
    fixed = data.get("fixed", "0")
    by_ccy: dict[str, Decimal] = {}
    default = Decimal(0)
    if isinstance(fixed, dict):
        by_ccy = {str(k): _dec(v, f"{where}.fixed.{k}") for k, v in fixed.items()}
    else:
        default = _dec(fixed, f"{where}.fixed")
    return Tariff(
        fixed=default,
        fixed_by_currency=by_ccy,
        percent=_dec(data.get("percent", "0"), f"{where}.percent"),
        min_fee=_opt_dec(data.get("min"), f"{where}.min"),
        max_fee=_opt_dec(data.get("max"), f"{where}.max"),
    )


def _rail(rail_id: str, data: dict[str, Any], offset: int) -> RailConfig:
    where = f"rails.{rail_id}"
    protocols = tuple(data.get("protocols", ()))
    if not protocols or any(p not in PROTOCOLS for p in protocols):
        raise ConfigError(f"{where}.protocols: choose from {PROTOCOLS}")
    currencies = tuple(str(c) for c in data.get("currencies", ()))
    if not currencies:
        raise ConfigError(f"{where}.currencies: at least one")
    limits_raw = data.get("limits") or {}
    limits = Limits(
        min_amount=_dec(limits_raw.get("min_amount", "0.01"), f"{where}.limits.min_amount"),
        max_amount=_opt_dec(limits_raw.get("max_amount"), f"{where}.limits.max_amount"),
        daily_amount=_opt_dec(limits_raw.get("daily_amount"), f"{where}.limits.daily_amount"),
        daily_count=limits_raw.get("daily_count"),
    )
    outside = str(data.get("outside_hours", "reject"))
    if outside not in OUTSIDE_HOURS:
        raise ConfigError(f"{where}.outside_hours: one of {OUTSIDE_HOURS}")
    settlement = data.get("settlement") or {}
    mode = str(settlement.get("mode", "immediate"))
    if mode not in SETTLEMENT_MODES:
        raise ConfigError(f"{where}.settlement.mode: one of {SETTLEMENT_MODES}")
    cycle = int(settlement.get("cycle_minutes", 30))
    if cycle <= 0:
        raise ConfigError(f"{where}.settlement.cycle_minutes must be > 0")
    try:
        behaviour = parse_behaviour(data.get("behaviour"))
    except ProfileError as exc:
        raise ConfigError(f"{where}.behaviour: {exc}") from exc
    balances = {
        str(k): _dec(v, f"{where}.opening_balances.{k}")
        for k, v in (data.get("opening_balances") or {}).items()
    }
    return RailConfig(
        id=rail_id,
        code=str(data.get("code", rail_id[:4])).upper(),
        protocols=protocols,
        currencies=currencies,
        port=data.get("port"),
        port_offset=int(data.get("port_offset", offset)),
        account=str(data.get("account", f"PAYGATE-{rail_id.upper()}-SETTLE")),
        tariff=_tariff(data.get("fees"), f"{where}.fees"),
        limits=limits,
        hours=_hours(data.get("hours"), f"{where}.hours"),
        outside_hours=outside,
        settlement=mode,
        cycle_minutes=cycle,
        require_lei=bool(data.get("require_lei", False)),
        opening_balances=balances,
        callback_url=data.get("callback_url"),
        closed_accounts=frozenset(str(a) for a in data.get("closed_accounts") or ()),
        blocked_accounts=frozenset(str(a) for a in data.get("blocked_accounts") or ()),
        behaviour=behaviour,
    )


def parse_rails_config(data: dict[str, Any]) -> RailsConfig:
    if not isinstance(data, dict) or not isinstance(data.get("rails"), dict):
        raise ConfigError("rails config needs a 'rails' mapping")
    clock = data.get("clock") or {}
    start = clock.get("start")
    try:
        clock_start = (
            None
            if start is None
            else _as_utc(start if isinstance(start, datetime) else datetime.fromisoformat(start))
        )
    except ValueError as exc:
        raise ConfigError(f"clock.start: {exc}") from exc
    speed = float(clock.get("speed", 1.0))
    if speed < 0:
        raise ConfigError("clock.speed must be >= 0")
    rails = {
        str(rid): _rail(str(rid), body or {}, i + 1)
        for i, (rid, body) in enumerate(data["rails"].items())
    }
    port_base = data.get("port_base")
    return RailsConfig(
        rails=rails,
        clock_start=clock_start,
        clock_speed=speed,
        port_base=int(port_base) if port_base is not None else None,
    )


def load_rails_config(path: str | Path | None = None) -> RailsConfig:
    """Read and validate a rails YAML file (default: simulators/rails.yaml)."""
    source = Path(path) if path is not None else DEFAULT_CONFIG_PATH
    with source.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    return parse_rails_config(data)
