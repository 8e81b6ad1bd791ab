"""The engine's narrow door to the ``routing`` library: order → RouteRequest → Decision.

Holds the active routing config; activating a new version swaps it atomically for every
worker in this process (``set_config``), no restart needed.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable
from decimal import Decimal

from paygate.domain import PaymentOrder
from routing import Decision, RouteRequest, RoutingConfig, Snapshot, decide, fee_for


def route_request(
    order: PaymentOrder,
    payment_id: str,
    *,
    client: str | None = None,
    merged: bool = False,
    now: dt.datetime | None = None,
) -> RouteRequest:
    return RouteRequest(
        payment_id=payment_id,
        amount=order.amount.value,
        currency=order.amount.currency,
        debtor_country=order.resolved_debtor_country,
        creditor_country=order.resolved_creditor_country,
        debtor_agent_bic=order.debtor_agent.bic if order.debtor_agent else None,
        creditor_agent_bic=order.creditor_agent.bic if order.creditor_agent else None,
        creditor_account=order.creditor_account.identifier,
        product=order.product,
        client=client,
        business_category=order.business_category,
        priority=order.priority.value,
        deadline=order.deadline,
        channel=order.channel,
        merged=merged,
        lei_present=order.debtor.lei is not None and order.creditor.lei is not None,
        routed_at=now,
    )


class RoutingService:
    def __init__(self, config: RoutingConfig, version: str = "file") -> None:
        self._lock = threading.Lock()
        self._config = config
        self.version = version

    @property
    def config(self) -> RoutingConfig:
        return self._config

    def set_config(self, config: RoutingConfig, version: str) -> None:
        with self._lock:
            self._config = config
            self.version = version

    def fee_of(self, channel: str, amount: Decimal, currency: str) -> Decimal | None:
        for spec in self._config.channels:
            if spec.id == channel:
                return fee_for(spec, amount, currency)
        return None

    def decide(
        self,
        request: RouteRequest,
        snapshot: Snapshot,
        now: dt.datetime,
        *,
        exclude: Iterable[str] = (),
        explain: bool = False,
    ) -> Decision:
        """Decide, then skip channels this payment was already definitively refused by."""
        decision = decide(request, self._config, snapshot, now, explain=explain)
        excluded = set(exclude)
        if decision.channel is None or not excluded:
            return decision
        ordered = [c for c in [decision.channel, *decision.fallbacks] if c not in excluded]
        if not ordered:
            tried = ", ".join(sorted(excluded))
            return Decision(
                channel=None,
                verdicts=decision.verdicts,
                rule=decision.rule,
                reason=f"every eligible channel has already refused this payment ({tried})",
            )
        return Decision(
            channel=ordered[0],
            fallbacks=ordered[1:],
            fee=decision.fee if ordered[0] == decision.channel else None,
            verdicts=decision.verdicts,
            rule=decision.rule,
            reason=f"failover after {', '.join(sorted(excluded))}",
            expected_seconds=decision.expected_seconds,
        )
