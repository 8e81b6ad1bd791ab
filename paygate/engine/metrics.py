"""Prometheus metrics, one registry per application (no module-level singletons)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

# 15 and 20 ms so that a 20 ms latency objective can be read off the histogram.
_LATENCY_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.015, 0.02, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
)  # fmt: skip


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Histogram(
            "paygate_http_request_seconds",
            "HTTP requests by route and status",
            ["method", "route", "status"],
            registry=self.registry,
            buckets=_LATENCY_BUCKETS,
        )
        self.payments = Gauge(
            "paygate_payments",
            "Payments by status and channel (refreshed on scrape)",
            ["status", "channel"],
            registry=self.registry,
        )
        self.unknown = Gauge(
            "paygate_payments_unknown",
            "Payments whose channel outcome is unknown and under inquiry",
            registry=self.registry,
        )
        self.submission_latency = Histogram(
            "paygate_submission_seconds",
            "Time from sending a payment to the channel's answer",
            ["channel", "outcome"],
            registry=self.registry,
            buckets=_LATENCY_BUCKETS,
        )
        self.transitions = Counter(
            "paygate_transitions_total",
            "Payment state transitions",
            ["to_status", "channel"],
            registry=self.registry,
        )
        self.liquidity_alerts = Counter(
            "paygate_liquidity_alerts_total",
            "Routing avoided a channel because its position would fall below protection",
            ["channel"],
            registry=self.registry,
        )

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
