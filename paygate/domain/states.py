"""The payment state machine. Every change of state goes through ``check_transition``."""

from __future__ import annotations

from enum import StrEnum

from paygate.errors import StateError


class PaymentStatus(StrEnum):
    RECEIVED = "received"
    VALIDATED = "validated"
    PENDING_MERGE = "pending_merge"
    ROUTED = "routed"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    SETTLED = "settled"
    REJECTED = "rejected"
    UNKNOWN = "unknown"
    HELD = "held"
    RETURNED = "returned"
    CANCELLED = "cancelled"
    FAILED = "failed"


S = PaymentStatus

# Final: nothing moves a payment out of these.
FINAL: frozenset[PaymentStatus] = frozenset({S.REJECTED, S.RETURNED, S.CANCELLED, S.FAILED})
# Terminal for the engine: no more automatic work. Settled can still be returned by an operator
# or by a pacs.004 from the rail.
TERMINAL: frozenset[PaymentStatus] = FINAL | {S.SETTLED}

TRANSITIONS: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    S.RECEIVED: frozenset({S.VALIDATED, S.HELD, S.FAILED, S.CANCELLED}),
    S.VALIDATED: frozenset({S.ROUTED, S.PENDING_MERGE, S.HELD, S.FAILED, S.CANCELLED}),
    S.PENDING_MERGE: frozenset({S.ROUTED, S.SUBMITTED, S.VALIDATED, S.CANCELLED, S.FAILED}),
    S.HELD: frozenset({S.VALIDATED, S.CANCELLED, S.FAILED}),
    # routed -> routed: a failover re-routes to the next channel.
    # routed -> rejected: after a failover, every remaining channel had already refused it.
    S.ROUTED: frozenset(
        {S.SUBMITTED, S.ROUTED, S.REJECTED, S.FAILED, S.CANCELLED, S.PENDING_MERGE}
    ),
    # submitted -> pending_merge: a merge was rejected, its items wait for the next window.
    S.SUBMITTED: frozenset(
        {
            S.ACCEPTED,
            S.SETTLED,
            S.REJECTED,
            S.UNKNOWN,
            S.ROUTED,
            S.FAILED,
            S.SUBMITTED,
            S.PENDING_MERGE,
        }
    ),
    S.UNKNOWN: frozenset({S.ACCEPTED, S.SETTLED, S.REJECTED, S.SUBMITTED, S.ROUTED, S.FAILED}),
    S.ACCEPTED: frozenset({S.SETTLED, S.REJECTED, S.UNKNOWN, S.ROUTED, S.RETURNED}),
    S.SETTLED: frozenset({S.RETURNED}),
    S.REJECTED: frozenset(),
    S.RETURNED: frozenset(),
    S.CANCELLED: frozenset(),
    S.FAILED: frozenset(),
}


def can_transition(src: PaymentStatus, dst: PaymentStatus) -> bool:
    return dst in TRANSITIONS[src]


def check_transition(src: PaymentStatus, dst: PaymentStatus) -> None:
    if not can_transition(src, dst):
        raise StateError(f"a payment cannot move from {src} to {dst}")
