"""The routing engine as a pure library: rails, fees, calendars, rules, scoring,
explanations, configuration loading and what-if replay. See `routing.config` for the
YAML shape and `routing.decide` for how a rail is chosen. Imports nothing of paygate."""

from routing.channels import (
    AmountLimits,
    Calendar,
    Capabilities,
    ChannelKind,
    ChannelSpec,
    FeeBand,
    LatencyModel,
    WeeklyHours,
)
from routing.config import RoutingConfig, ScoreWeights, Weights, config_schema, config_schema_text
from routing.decide import STRAIGHT_THROUGH, decide
from routing.decision import ChannelVerdict, Decision
from routing.fees import NoFeeBand, fee_for
from routing.health import CircuitBreaker, OutcomeWindow
from routing.issues import ConfigIssue, ConfigLoadError
from routing.loader import check_config, load_config, load_config_text
from routing.request import RouteRequest
from routing.rules import Priority
from routing.snapshot import BreakerState, ChannelState, Snapshot
from routing.whatif import ChangedDecision, SideSummary, WhatIfReport, whatif

__all__ = [
    "STRAIGHT_THROUGH",
    "AmountLimits",
    "BreakerState",
    "Calendar",
    "Capabilities",
    "ChangedDecision",
    "ChannelKind",
    "ChannelSpec",
    "ChannelState",
    "ChannelVerdict",
    "CircuitBreaker",
    "ConfigIssue",
    "ConfigLoadError",
    "Decision",
    "FeeBand",
    "LatencyModel",
    "NoFeeBand",
    "OutcomeWindow",
    "Priority",
    "RouteRequest",
    "RoutingConfig",
    "ScoreWeights",
    "SideSummary",
    "Snapshot",
    "WeeklyHours",
    "Weights",
    "WhatIfReport",
    "check_config",
    "config_schema",
    "config_schema_text",
    "decide",
    "fee_for",
    "load_config",
    "load_config_text",
    "whatif",
]
