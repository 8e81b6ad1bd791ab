"""Per-config lookup tables built once, so a decision does dictionary lookups and a few
Decimal operations instead of walking pydantic models (the hot path allocates no models)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from decimal import Decimal
from operator import attrgetter
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import holidays

from routing.channels import WEEKDAY_INDEX, Calendar, ChannelSpec, FeeBand, LatencyModel
from routing.currency import quantum
from routing.eligibility import Shapes
from routing.fee_table import FeeTable
from routing.rules import (
    ConditionRule,
    DefaultRule,
    DesignatedRule,
    ExclusionRule,
    ProductRule,
    SplitRule,
    When,
    WhitelistRule,
)
from routing.scaled import units, weight_units

if TYPE_CHECKING:
    from routing.config import RoutingConfig
    from routing.request import RouteRequest

_HUNDRED = Decimal(100)
_DAY = 86_400
_MAX_CANDIDATE_SETS = 4096
SPLIT_BUCKETS = 10_000

# (from, to, fixed, percent as a fraction or None, min, max)
Band = tuple[Decimal, Decimal | None, Decimal, Decimal | None, Decimal | None, Decimal | None]


def compile_bands(bands: Iterable[FeeBand]) -> dict[str, tuple[Band, ...]]:
    by_currency: dict[str, list[Band]] = {}
    for band in bands:
        fraction = band.percent / _HUNDRED if band.percent else None
        by_currency.setdefault(band.currency, []).append(
            (band.from_, band.to, band.fixed, fraction, band.min, band.max)
        )
    return {cur: tuple(sorted(rows, key=lambda b: b[0])) for cur, rows in by_currency.items()}


def fee_from_bands(
    bands: tuple[Band, ...] | None, amount: Decimal, currency: str
) -> Decimal | None:
    """The fee for `amount`, or None when no band covers it (a gap, or a foreign currency)."""
    if not bands:
        return None
    for lo, hi, fixed, fraction, low, high in bands:
        if amount >= lo and (hi is None or amount < hi):
            fee = fixed if fraction is None else fixed + amount * fraction
            if low is not None and fee < low:
                fee = low
            if high is not None and fee > high:
                fee = high
            return fee.quantize(quantum(currency))
    return None


def _seconds(t: dt.time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def _hhmm(t: dt.time) -> str:
    return t.strftime("%H:%M")


# One local day of a calendar in UTC timestamps: [start, end) of the day and the intervals
# [open, close-or-cut-off) when the rail takes payments, or None on a day whose UTC offset
# changes (wall-clock seconds are then not elapsed seconds: the caller converts instead).
_Day = tuple[float, float, tuple[tuple[float, float], ...] | None]
_MAX_DAYS = 1024


class CompiledCalendar:
    __slots__ = (
        "_days",
        "_holidays",
        "always_open",
        "cutoff",
        "day",
        "holiday_country",
        "hours_text",
        "tz",
        "windows",
        "zone",
    )

    def __init__(self, cal: Calendar) -> None:
        self.zone = cal.timezone
        self.tz = ZoneInfo(cal.timezone)
        self.always_open = cal.always_open
        windows: list[list[tuple[int, int]]] = [[] for _ in range(7)]
        for hours in cal.hours:
            for day in hours.days:
                windows[WEEKDAY_INDEX[day]].append((_seconds(hours.open), _seconds(hours.close)))
        self.windows = tuple(tuple(sorted(w)) for w in windows)
        self.cutoff = None if cal.cutoff is None else _seconds(cal.cutoff)
        self.holiday_country = cal.holiday_country
        self._holidays: dict[int, frozenset[dt.date]] = {}
        self._days: dict[dt.date, _Day] = {}
        # The day `open_at` looked up last; ranking reads it inline (one tuple: a thread
        # sees either the old day or the new one).
        self.day: _Day | None = None
        spans = ", ".join(
            f"{'/'.join(d.value.title() for d in h.days)} {_hhmm(h.open)}-{_hhmm(h.close)}"
            for h in cal.hours
        )
        self.hours_text = f"{spans} {cal.timezone}"

    def holiday_dates(self, year: int) -> frozenset[dt.date]:
        # Memoized per year: the `holidays` package builds its tables slowly.
        dates = self._holidays.get(year)
        if dates is None:
            assert self.holiday_country is not None
            dates = frozenset(holidays.country_holidays(self.holiday_country, years=year).keys())
            self._holidays[year] = dates
        return dates

    def open_at(self, now_ts: float) -> bool | None:
        """Whether the rail takes payments at UTC timestamp `now_ts`, from a per-day cache
        (no time zone conversion on a hit); None on a DST-change day: ask `closed_reason`.
        Agrees with `closed_reason(...) is None` to the microsecond."""
        day = self.day
        if day is None or not day[0] <= now_ts < day[1]:
            day = self._load_day(now_ts)
            if day is None:
                return None
        intervals = day[2]
        if intervals is None:
            return None
        for start, end in intervals:  # noqa: SIM110 - a loop, not a generator: hot path
            if start <= now_ts < end:
                return True
        return False

    def _load_day(self, now_ts: float) -> _Day | None:
        date = dt.datetime.fromtimestamp(now_ts, self.tz).date()
        day = self._days.get(date)
        if day is None:
            day = self._build_day(date)
            if len(self._days) >= _MAX_DAYS:
                self._days.clear()
            self._days[date] = day
        if not day[0] <= now_ts < day[1]:
            return None
        self.day = day  # one tuple store: safe to share between threads
        return day

    def _build_day(self, date: dt.date) -> _Day:
        start = dt.datetime.combine(date, dt.time(), self.tz)
        end = dt.datetime.combine(date + dt.timedelta(days=1), dt.time(), self.tz)
        lo, hi = start.timestamp(), end.timestamp()
        last = dt.datetime.fromtimestamp(hi - 1, self.tz)
        if hi - lo != _DAY or start.utcoffset() != last.utcoffset():
            return (lo, hi, None)
        if self.always_open:
            return (lo, hi, ((lo, hi),))
        intervals: list[tuple[float, float]] = []
        if self.holiday_country is None or date not in self.holiday_dates(date.year):
            for open_, close in self.windows[date.weekday()]:
                if self.cutoff is not None and close > self.cutoff:
                    close = self.cutoff
                if open_ < close:
                    intervals.append((lo + open_, lo + close))
        return (lo, hi, tuple(intervals))

    def closed_reason(self, local: dt.datetime) -> str | None:
        """Why the rail takes no payment for today at local time `local`, or None if open."""
        if self.always_open:
            return None
        day = local.date()
        if self.holiday_country is not None and day in self.holiday_dates(day.year):
            return f"closed: public holiday in {self.holiday_country} ({day.isoformat()})"
        secs = local.hour * 3600 + local.minute * 60 + local.second
        for start, end in self.windows[local.weekday()]:
            if start <= secs < end:
                break
        else:
            return f"closed at {local.strftime('%a %H:%M')} (hours {self.hours_text})"
        if self.cutoff is not None and secs >= self.cutoff:
            return (
                f"past cut-off {self.cutoff // 3600:02d}:{self.cutoff % 3600 // 60:02d} {self.zone}"
            )
        return None


class CompiledLatency:
    __slots__ = ("cycle_times", "fixed", "period", "settle")

    def __init__(self, model: LatencyModel) -> None:
        self.fixed = model.expected_seconds
        self.period = None if model.cycle_every_minutes is None else model.cycle_every_minutes * 60
        self.cycle_times = tuple(sorted(_seconds(t) for t in model.cycle_times))
        self.settle = model.settle_seconds

    def expected_seconds(self, now_ts: float, local: dt.datetime) -> float:
        if self.fixed is not None:
            return self.fixed
        if self.period is not None:
            # A payment that arrives exactly on a cycle boundary has missed that cycle.
            return self.period - now_ts % self.period + self.settle
        secs = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
        for cycle in self.cycle_times:
            if cycle > secs:
                return cycle - secs + self.settle
        return _DAY - secs + self.cycle_times[0] + self.settle


class CompiledChannel:
    __slots__ = (
        "accepts_merged",
        "calendar",
        "cap_amount",
        "cap_count",
        "cross_border",
        "currencies",
        "domestic",
        "fee_tables",
        "fees",
        "flat_fees",
        "flat_units",
        "id",
        "latency",
        "lei_required",
        "limits",
        "order",
        "penalties",
        "penalty_units",
        "spec",
        "terms",
    )

    def __init__(self, spec: ChannelSpec, order: int) -> None:
        self.spec = spec
        self.id = spec.id
        self.order = order
        self.currencies = frozenset(spec.currencies)
        self.limits = {cur: (lim.min, lim.max) for cur, lim in spec.limits.items()}
        self.cross_border = spec.cross_border
        self.domestic = frozenset(spec.domestic_countries)
        self.cap_amount = spec.daily_amount_cap
        self.cap_count = spec.daily_count_cap
        self.calendar = CompiledCalendar(spec.calendar)
        self.latency = CompiledLatency(spec.latency)
        self.fees = compile_bands(spec.fees)
        # A single open band with a plain fixed fee (most rails) needs no band walk.
        self.flat_fees = {
            cur: fixed.quantize(quantum(cur))
            for cur, bands in self.fees.items()
            if len(bands) == 1
            for lo, hi, fixed, fraction, low, high in bands
            if lo == 0 and hi is None and fraction is None and low is None and high is None
        }
        self.flat_units = {cur: units(fee) for cur, fee in self.flat_fees.items()}
        self.fee_tables = {
            cur: FeeTable(bands, cur)
            for cur, bands in self.fees.items()
            if cur not in self.flat_fees
        }
        # What ranking reads per currency, in one lookup: the amount bounds (None: no
        # limit), the flat fee and its units, else the fee table (None: no fee band).
        self.terms: dict[str, _Terms] = {
            cur: (
                *self.limits.get(cur, (None, None)),
                self.flat_fees.get(cur),
                self.flat_units.get(cur),
                self.fee_tables.get(cur),
            )
            for cur in self.currencies
        }
        self.lei_required = spec.capabilities.lei_required
        # Latency penalty by priority for a fixed-latency rail and no deadline; filled in by
        # CompiledConfig, which knows the weights.
        self.penalties: dict[str, Decimal] = {}
        self.penalty_units: dict[str, int] = {}
        self.accepts_merged = spec.capabilities.accepts_merged

    def row(self, currency: str) -> Row:
        """What ranking reads of this rail for a payment in `currency` (which it carries),
        as one tuple: unpacking it costs less than reading each attribute per decision."""
        return (
            self,
            self.id,
            self.order,
            *self.terms[currency],
            self.cap_amount,
            self.cap_count,
            None if self.calendar.always_open else self.calendar,
            self.latency,
            self.penalty_units,
        )


# The rail, its id and config order; its terms for the currency (amount bounds, flat fee
# and its units, fee table); caps; calendar (None: always open); latency model; latency
# penalties in units by priority (empty unless the latency is fixed).
Row = tuple[
    CompiledChannel,
    str,
    int,
    Decimal | None,
    Decimal | None,
    Decimal | None,
    int | None,
    FeeTable | None,
    Decimal | None,
    int | None,
    CompiledCalendar | None,
    CompiledLatency,
    dict[str, int],
]

_Terms = tuple[Decimal | None, Decimal | None, Decimal | None, int | None, FeeTable | None]


def _values(value: Any) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return frozenset({value})
    return frozenset(value)


# Equality conditions, most selective first: a rule is indexed under the first one it has.
MATCH_FIELDS = (
    "client",
    "creditor_account",
    "creditor_agent_bic",
    "product",
    "business_category",
    "creditor_country",
    "debtor_country",
    "currency",
    "priority",
)


class Match:
    """A rule's `when`, normalized: per field a set of accepted values, plus ranges/flags."""

    __slots__ = ("cross_border", "fields", "max_amount", "merged", "min_amount")

    def __init__(self, when: When, product: Any = None) -> None:
        fields: dict[str, frozenset[str]] = {}
        for name in MATCH_FIELDS:
            values = _values(getattr(when, name))
            if values is not None:
                fields[name] = values
        extra = _values(product)
        if extra is not None:
            fields["product"] = fields["product"] & extra if "product" in fields else extra
        self.fields = fields
        self.min_amount = when.min_amount
        self.max_amount = when.max_amount
        self.cross_border = when.cross_border
        self.merged = when.merged

    def matches(self, req: RouteRequest) -> bool:
        # Pure tests, so their order is free: the flags first, as a rule found through the
        # index (say by currency) is mostly told apart by them.
        cross_border = self.cross_border
        if cross_border is not None:
            # `req.cross_border` inlined: a property call costs as much as the test.
            debtor, creditor = req.debtor_country, req.creditor_country
            if (debtor is not None and creditor is not None and debtor != creditor) != (
                cross_border
            ):
                return False
        if self.merged is not None and req.merged != self.merged:
            return False
        for name, accepted in self.fields.items():
            if getattr(req, name) not in accepted:
                return False
        amount = req.amount
        if self.min_amount is not None and amount < self.min_amount:
            return False
        return self.max_amount is None or not amount > self.max_amount

    def covers(self, other: Match) -> bool:
        """True when every payment `other` matches is also matched by this one."""
        for name, accepted in self.fields.items():
            theirs = other.fields.get(name)
            if theirs is None or not theirs <= accepted:
                return False
        if self.min_amount is not None and (
            other.min_amount is None or other.min_amount < self.min_amount
        ):
            return False
        if self.max_amount is not None and (
            other.max_amount is None or other.max_amount > self.max_amount
        ):
            return False
        for flag in ("cross_border", "merged"):
            mine = getattr(self, flag)
            if mine is not None and getattr(other, flag) != mine:
                return False
        return True


_ANY = Match(When())


class CompiledRule:
    __slots__ = (
        "channels",
        "exclusive",
        "fallthrough",
        "id",
        "kind",
        "match",
        "pos",
        "salt",
        "scored",
        "shares",
        "trivial",
        "whitelist",
    )

    def __init__(self, rule: Any, pos: int, known: dict[str, CompiledChannel]) -> None:
        self.id: str = rule.id
        self.kind: str = rule.kind
        self.pos = pos
        self.fallthrough: bool = getattr(rule, "fallthrough", True)
        self.scored = False
        self.exclusive = False
        self.whitelist: tuple[frozenset[str], frozenset[str], frozenset[str]] | None = None
        self.shares: tuple[tuple[int, str], ...] = ()
        self.salt = rule.id.encode()[:64]
        self.match = _ANY
        names: list[str]
        if isinstance(rule, DefaultRule):
            names = list(rule.channels) if rule.channels else list(known)
            self.scored = True
        else:
            self.match = Match(rule.when, rule.product if isinstance(rule, ProductRule) else None)
            if isinstance(rule, DesignatedRule):
                names = [rule.channel, *rule.fallbacks]
            elif isinstance(rule, WhitelistRule):
                names = [rule.channel]
                self.exclusive = rule.exclusive
                self.whitelist = (
                    frozenset(rule.creditor_accounts),
                    frozenset(rule.creditor_agent_bics),
                    frozenset(rule.creditor_countries),
                )
            elif isinstance(rule, ProductRule | ExclusionRule):
                names = list(rule.channels)
                self.scored = True
            elif isinstance(rule, ConditionRule):
                names = list(rule.channels)
                self.scored = rule.order == "score"
            elif isinstance(rule, SplitRule):
                names = [share.channel for share in rule.shares]
                upper = Decimal(0)
                shares: list[tuple[int, str]] = []
                for share in rule.shares:
                    upper += share.percent
                    shares.append((int(upper * SPLIT_BUCKETS / _HUNDRED), share.channel))
                self.shares = tuple(shares)
            else:  # pragma: no cover - the discriminated union has no other kinds
                raise TypeError(f"unknown rule kind {rule.kind!r}")
        self.channels = tuple(n for n in dict.fromkeys(names) if n in known)
        m = self.match
        # True when being found through the index (or having no conditions) already proves
        # the match, so `matching_rules` can skip calling `matches`.
        self.trivial = (
            len(m.fields) <= 1
            and m.min_amount is None
            and m.max_amount is None
            and m.cross_border is None
            and m.merged is None
        )

    def in_whitelist(self, req: RouteRequest) -> bool:
        assert self.whitelist is not None
        accounts, bics, countries = self.whitelist
        return (
            req.creditor_account in accounts
            or req.creditor_agent_bic in bics
            or req.creditor_country in countries
        )

    def split_order(self, payment_id: str) -> tuple[str, ...]:
        """The split's channels, the one this payment id hashes to first (sticky)."""
        digest = hashlib.blake2b(payment_id.encode(), digest_size=8, key=self.salt).digest()
        bucket = int.from_bytes(digest, "big") % SPLIT_BUCKETS
        i = next((k for k, (upper, _) in enumerate(self.shares) if bucket < upper), -1)
        i = i if i >= 0 else len(self.shares) - 1
        ordered = [self.shares[i][1]] + [c for j, (_, c) in enumerate(self.shares) if j != i]
        return tuple(c for c in ordered if c in self.channels)


# The weights a payment is scored with: as Decimals, as integers (see routing.scaled), and
# whether they are all 1 (the sum then needs no products).
WeightChoice = tuple[tuple[Decimal, Decimal, Decimal], tuple[int, int, int], bool]


class CompiledWeights:
    __slots__ = (
        "choices",
        "default",
        "default_choice",
        "failure_cost",
        "failure_odds",
        "failure_rate",
        "latency_rates",
        "odds_units",
        "product_units",
        "products",
        "unit",
        "unit_weights",
    )

    def __init__(self, config: RoutingConfig) -> None:
        w = config.weights
        self.default = (w.default.fee, w.default.latency, w.default.risk)
        self.products = {p: (s.fee, s.latency, s.risk) for p, s in w.products.items()}
        self.latency_rates: dict[str, float] = {
            p: float(r) for p, r in w.latency_cost_per_hour.items()
        }
        self.unit = all(x == 1 for x in (w.default.fee, w.default.latency, w.default.risk))
        self.failure_cost = w.failure_cost
        self.failure_rate = w.failure_cost_rate
        # dec4(1 - success rate) by success rate: a memo of a pure function (bounded).
        self.failure_odds: dict[float, Decimal] = {}
        # The same weights and odds for the integer ranking (see routing.scaled).
        self.unit_weights = weight_units(self.default)
        self.product_units = {p: weight_units(s) for p, s in self.products.items()}
        self.odds_units: dict[float, Decimal] = {}
        # By product, in one lookup; a product's own weights are never taken as unit ones.
        self.default_choice: WeightChoice = (self.default, self.unit_weights, self.unit)
        self.choices: dict[str | None, WeightChoice] = {
            p: (s, self.product_units[p], False) for p, s in self.products.items()
        }

    def odds(self, success: float) -> Decimal:
        odds = dec4(1.0 - success)
        if len(self.failure_odds) >= 4096:
            self.failure_odds.clear()
        self.failure_odds[success] = odds
        return odds

    def odds_in_units(self, success: float) -> Decimal:
        """`odds(success)` in units of 0.0001, as an integral Decimal (memoized, bounded)."""
        odds = Decimal(round((1.0 - success) * 10_000))
        if len(self.odds_units) >= 4096:
            self.odds_units.clear()
        self.odds_units[success] = odds
        return odds


class CompiledConfig:
    __slots__ = (
        "_candidates",
        "_index_key",
        "by_id",
        "channels",
        "exclusive_whitelists",
        "ids",
        "indexes",
        "rules",
        "shapes",
        "specs",
        "unindexed",
        "weights",
    )

    def __init__(self, config: RoutingConfig) -> None:
        self.channels = tuple(CompiledChannel(spec, i) for i, spec in enumerate(config.channels))
        self.by_id = {c.id: c for c in self.channels}
        self.ids = tuple(self.by_id)
        self.specs = {spec.id: spec for spec in config.channels}
        self.rules = tuple(CompiledRule(r, i, self.by_id) for i, r in enumerate(config.rules))
        self.exclusive_whitelists = tuple(r for r in self.rules if r.exclusive)
        unindexed: list[int] = []
        tables: dict[str, dict[str, list[int]]] = {}
        for rule in self.rules:
            key = next((f for f in MATCH_FIELDS if f in rule.match.fields), None)
            if key is None:
                unindexed.append(rule.pos)
                continue
            table = tables.setdefault(key, {})
            for value in rule.match.fields[key]:
                table.setdefault(value, []).append(rule.pos)
        self.unindexed = tuple(unindexed)
        self.indexes = tuple(
            (f, {v: tuple(p) for v, p in tables[f].items()}) for f in MATCH_FIELDS if f in tables
        )
        # A request's values of the indexed fields (a tuple if more than one): the key of
        # `_candidates`. Bounded, as `client` alone may take many values.
        self._index_key = attrgetter(*(f for f, _ in self.indexes)) if self.indexes else None
        self._candidates: dict[Any, tuple[tuple[CompiledRule, ...], bool]] = {}
        self.shapes = Shapes(self.channels)
        self.weights = CompiledWeights(config)
        for ch in self.channels:
            if ch.latency.fixed is not None:
                ch.penalties = {
                    priority: latency_penalty(ch.latency.fixed, rate, None)
                    for priority, rate in self.weights.latency_rates.items()
                }
                ch.penalty_units = {p: units(v) for p, v in ch.penalties.items()}

    def matching_rules(self, req: RouteRequest) -> list[CompiledRule]:
        """Rules whose conditions hold for `req`, in configured order."""
        rules, _ = self.rule_candidates(req)
        return [rule for rule in rules if rule.trivial or rule.match.matches(req)]

    def rule_candidates(self, req: RouteRequest) -> tuple[tuple[CompiledRule, ...], bool]:
        """The rules `req` may match judging by the indexed fields alone, in configured
        order, and whether any of them is an exclusion. A function of those fields' values
        only, and requests repeat them, so it is memoized (bounded)."""
        key = None if self._index_key is None else self._index_key(req)
        found = self._candidates.get(key)
        if found is None:
            positions: list[int] = list(self.unindexed)
            for name, table in self.indexes:
                positions.extend(table.get(getattr(req, name), ()))
            rules = tuple(self.rules[p] for p in sorted(positions))
            found = (rules, any(rule.kind == "exclusion" for rule in rules))
            if len(self._candidates) >= _MAX_CANDIDATE_SETS:
                self._candidates.clear()
            self._candidates[key] = found
        return found


def dec4(value: float) -> Decimal:
    # Penalties derive from float ratios; fixing them to 4 places keeps scores exact and short.
    return Decimal(round(value * 10_000)).scaleb(-4)


def latency_penalty(expected: float, rate_per_hour: float, slack: float | None) -> Decimal:
    """Cost of waiting `expected` seconds; weighs more the more of the time left it uses."""
    cost = expected / 3600 * rate_per_hour
    if slack:
        cost *= 1 + expected / slack
    return dec4(cost)


def compile_config(config: RoutingConfig) -> CompiledConfig:
    return CompiledConfig(config)
