"""The routing configuration: rails, rules and scoring weights, as one YAML document.

Shape (the JSON Schema in `routing/schema.json` is generated from these models by
`routing.config_schema()`; point an editor's YAML language server at it)::

    version: "2024-06-demo"            # free text, shown in explanations
    channels:                          # routing.channels.ChannelSpec, one per rail
      - id: rtgs
        kind: rtgs                     # rtgs | batch | instant | card | citybank | cips | swift
        currencies: [EUR, USD]
        cross_border: false            # true: carries payments whose countries differ
        domestic_countries: [DE]       # empty: any country
        limits: {EUR: {min: 0.01, max: 100000000}}   # per payment, inclusive
        daily_amount_cap: 5000000000   # compared with Snapshot.used_amount_today + amount
        daily_count_cap: 1000000
        calendar:
          timezone: Europe/Berlin      # hours, cut-off and holidays are local to the rail
          always_open: false
          hours: [{days: [mon, tue, wed, thu, fri], open: "08:00", close: "18:00"}]
          cutoff: "17:00"
          holiday_country: DE          # public holidays from the `holidays` package
        latency: {expected_seconds: 2} # or {cycle_every_minutes: 30, settle_seconds: 60}
                                       # or {cycle_times: ["10:00", "14:00"]}
        fees:                          # bands per currency, [from, to), no gaps, no overlaps
          - {currency: EUR, from: 0, fixed: 2.50}
          - {currency: USD, from: 0, to: 1000, fixed: 1, percent: 0.1, min: 1.5, max: 20}
        capabilities: {formats: [pacs.008], lei_required: false, accepts_merged: false}
    rules:                             # evaluated top to bottom; see routing.rules
      - {id: payroll, kind: designated, when: {product: payroll}, channel: batch,
         fallbacks: [instant]}
      - {id: default, kind: default}
    weights:
      default: {fee: 1, latency: 1, risk: 1}
      products: {payroll: {fee: 1, latency: 0, risk: 1}}
      latency_cost_per_hour: {normal: 0.5, high: 20, urgent: 500}
      failure_cost: 5                  # cost of one failed attempt, in payment currency units
      failure_cost_rate: 0.0001        # plus this fraction of the amount

Score of an eligible rail (lower wins; ties go to the rail listed first):
``fee·w_fee + latency_penalty·w_latency + risk_penalty·w_risk`` where
``latency_penalty = expected_hours · latency_cost_per_hour[priority]``, scaled by
``1 + expected / time_left`` when the payment has a deadline, and
``risk_penalty = (1 − success_rate) · (failure_cost + amount · failure_cost_rate)``
(success rate capped at 0.5 while the breaker is half-open).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from routing.channels import ChannelSpec
from routing.rules import Priority, Rule

if TYPE_CHECKING:
    from routing.compiled import CompiledConfig

Weight = Annotated[Decimal, Field(ge=0)]
_COMPILED = "_routing_compiled"


class ScoreWeights(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    fee: Weight = Decimal(1)
    latency: Weight = Decimal(1)
    risk: Weight = Decimal(1)


def _default_latency_rates() -> dict[Priority, Decimal]:
    return {
        Priority.NORMAL: Decimal("0.5"),
        Priority.HIGH: Decimal(20),
        Priority.URGENT: Decimal(500),
    }


class Weights(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    default: ScoreWeights = Field(default_factory=ScoreWeights)
    products: dict[str, ScoreWeights] = Field(default_factory=dict)
    latency_cost_per_hour: dict[Priority, Weight] = Field(default_factory=_default_latency_rates)
    failure_cost: Weight = Decimal(5)
    failure_cost_rate: Weight = Decimal("0.0001")


class RoutingConfig(BaseModel):
    """A validated configuration. Lookup tables for `decide` are built once, on first use."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str | None = None
    channels: list[ChannelSpec] = Field(min_length=1)
    rules: list[Rule] = Field(default_factory=list)
    weights: Weights = Field(default_factory=Weights)

    @property
    def compiled(self) -> CompiledConfig:
        # Kept in the instance dict next to the fields (pydantic serializes fields only) and
        # tagged with the field objects it was built from, so a `model_copy(update=...)`
        # never reuses tables compiled for other channels or rules.
        cached = self.__dict__.get(_COMPILED)
        if (
            cached is not None
            and cached[0] is self.channels
            and cached[1] is self.rules
            and cached[2] is self.weights
        ):
            return cached[3]
        from routing.compiled import compile_config

        compiled = compile_config(self)
        self.__dict__[_COMPILED] = (self.channels, self.rules, self.weights, compiled)
        return compiled

    def channel(self, channel_id: str) -> ChannelSpec | None:
        return self.compiled.specs.get(channel_id)


def config_schema() -> dict[str, Any]:
    """JSON Schema of the YAML configuration (what `routing/schema.json` holds)."""
    schema = RoutingConfig.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "paygate routing configuration"
    return schema


def config_schema_text() -> str:
    return json.dumps(config_schema(), indent=2, sort_keys=True) + "\n"
