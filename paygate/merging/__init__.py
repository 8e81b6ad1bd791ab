"""Merging small high-frequency payments to the same payee (并笔): rules, window
boundaries, the pure planner and fee savings. Same layer as ``paygate.engine``; imports
only ``paygate.domain``, ``paygate.errors``, pydantic, PyYAML and the standard library.
The engine owns the I/O: selecting pending items, committing merges, submitting them."""

from paygate.merging.planner import (
    MergeCandidate,
    MergePlan,
    MergeReason,
    PlannedMerge,
    RailMax,
    merge_amount_cap,
    merge_key,
    next_wakeup,
    plan_merges,
)
from paygate.merging.rules import (
    MergeConfig,
    MergeConfigError,
    MergeMatch,
    MergeRule,
    MergeWindow,
    eligible_rule,
    load_merge_config,
    load_merge_config_text,
    parse_merge_config,
    rule_accepts,
)
from paygate.merging.savings import Savings, merge_savings
from paygate.merging.windows import last_boundary, next_boundary

__all__ = [
    "MergeCandidate",
    "MergeConfig",
    "MergeConfigError",
    "MergeMatch",
    "MergePlan",
    "MergeReason",
    "MergeRule",
    "MergeWindow",
    "PlannedMerge",
    "RailMax",
    "Savings",
    "eligible_rule",
    "last_boundary",
    "load_merge_config",
    "load_merge_config_text",
    "merge_amount_cap",
    "merge_key",
    "merge_savings",
    "next_boundary",
    "next_wakeup",
    "parse_merge_config",
    "plan_merges",
    "rule_accepts",
]
