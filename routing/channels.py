"""What a clearing channel (rail) is, as the operator configures it.

These models are the YAML/JSON shape of one entry under `channels:`; they are validated
once on load and compiled by `routing.compiled` into plain lookup tables for the hot path.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")]
Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166 alpha-2 code")]
Money = Annotated[Decimal, Field(ge=0, description="Amount in the payment's currency")]


class ChannelKind(StrEnum):
    RTGS = "rtgs"
    BATCH = "batch"
    INSTANT = "instant"
    CARD = "card"
    CITYBANK = "citybank"
    CIPS = "cips"
    SWIFT = "swift"


class Weekday(StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"


WEEKDAY_INDEX: dict[Weekday, int] = {day: i for i, day in enumerate(Weekday)}
_WORKING_WEEK = [Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU, Weekday.FRI]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class AmountLimits(_Frozen):
    """Per-payment bounds for one currency (both inclusive)."""

    min: Money = Decimal(0)
    max: Money | None = None

    @model_validator(mode="after")
    def _ordered(self) -> AmountLimits:
        if self.max is not None and self.max < self.min:
            raise ValueError(f"max {self.max} is below min {self.min}")
        return self


class WeeklyHours(_Frozen):
    """An opening window repeated on the listed weekdays, local time, close exclusive."""

    days: list[Weekday] = Field(default_factory=lambda: list(_WORKING_WEEK))
    open: dt.time
    close: dt.time

    @model_validator(mode="after")
    def _ordered(self) -> WeeklyHours:
        if self.close <= self.open:
            raise ValueError(f"close {self.close} must be after open {self.open}")
        return self


class Calendar(_Frozen):
    """When the rail accepts payments for same-day settlement."""

    timezone: str = "UTC"
    always_open: bool = False
    hours: list[WeeklyHours] = Field(default_factory=list)
    cutoff: dt.time | None = Field(
        default=None, description="Last local time a payment is accepted for today."
    )
    holiday_country: Country | None = Field(
        default=None, description="Country whose public holidays close the rail (`holidays`)."
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _has_hours(self) -> Calendar:
        if not self.always_open and not self.hours:
            raise ValueError("a calendar needs `hours` unless `always_open: true`")
        return self


class LatencyModel(_Frozen):
    """Expected time from submission to settlement: fixed, or wait for the next batch cycle."""

    expected_seconds: float | None = Field(default=None, ge=0)
    cycle_every_minutes: int | None = Field(
        default=None, gt=0, description="Cycles on a fixed grid of the UTC clock."
    )
    cycle_times: list[dt.time] = Field(
        default_factory=list, description="Local cycle times each day (channel time zone)."
    )
    settle_seconds: float = Field(default=0, ge=0, description="Added after the cycle runs.")

    @model_validator(mode="after")
    def _exactly_one(self) -> LatencyModel:
        given = [
            self.expected_seconds is not None,
            self.cycle_every_minutes is not None,
            bool(self.cycle_times),
        ]
        if sum(given) != 1:
            raise ValueError(
                "give exactly one of expected_seconds, cycle_every_minutes, cycle_times"
            )
        return self


class FeeBand(_Frozen):
    """Fee for amounts in [from, to) of one currency: fixed + percent, clamped to [min, max]."""

    currency: Currency
    from_: Money = Field(default=Decimal(0), alias="from")
    to: Money | None = Field(default=None, description="Exclusive upper bound; open if absent.")
    fixed: Money = Decimal(0)
    percent: Annotated[Decimal, Field(ge=0, le=100)] = Decimal(0)
    min: Money | None = None
    max: Money | None = None

    @model_validator(mode="after")
    def _ordered(self) -> FeeBand:
        if self.to is not None and self.to <= self.from_:
            raise ValueError(f"band `to` {self.to} must be above `from` {self.from_}")
        if self.min is not None and self.max is not None and self.max < self.min:
            raise ValueError(f"fee max {self.max} is below fee min {self.min}")
        return self


class Capabilities(_Frozen):
    formats: list[str] = Field(default_factory=list, description="e.g. pacs.008, MT103, json")
    lei_required: bool = False
    accepts_merged: bool = False


class ChannelSpec(_Frozen):
    """One rail: what it carries, when, how fast, at what price."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,34}$")
    kind: ChannelKind
    currencies: list[Currency] = Field(min_length=1)
    cross_border: bool = Field(
        default=False, description="Carries payments whose debtor and creditor countries differ."
    )
    domestic_countries: list[Country] = Field(
        default_factory=list,
        description="Countries whose domestic payments it carries (empty: any country).",
    )
    limits: dict[str, AmountLimits] = Field(
        default_factory=dict, description="Per-currency per-payment bounds."
    )
    daily_amount_cap: Money | None = None
    daily_count_cap: int | None = Field(default=None, ge=0)
    calendar: Calendar = Field(default_factory=lambda: Calendar(always_open=True))
    latency: LatencyModel
    fees: list[FeeBand] = Field(min_length=1)
    capabilities: Capabilities = Field(default_factory=Capabilities)
