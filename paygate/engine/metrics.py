"""Prometheus metrics, one registry per application (no module-level singletons).

Under ``paygate serve --processes N`` every process answers ``/metrics`` on the shared port,
so a scrape reaches one of them at random. ``serve`` then calls ``share_across_processes``:
counters and histograms live in per-process files in one directory, and every scrape reports
the sum over all processes. The payment gauges are read from the database at scrape time, the
same in every process, so they are not kept in those files.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, values
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"  # prometheus_client's own variable


def share_across_processes(directory: Path) -> None:
    """Keep metric values in per-process files under ``directory`` (which the processes share)
    instead of in memory. Call before any ``Metrics`` is made."""
    os.environ[MULTIPROCESS_ENV] = str(directory)  # read by the files' writer and the collector
    # prometheus_client picks the value class at import from that variable, and reads it back
    # from the module on each new metric: switching it here is independent of import order.
    values.ValueClass = values.MultiProcessValue()


# 15 and 20 ms so that a 20 ms latency objective can be read off the histogram.
_LATENCY_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.015, 0.02, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
)  # fmt: skip


class PaymentCounts(Collector):
    """Payments by status and channel as of the last ``update`` (done on each scrape)."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, str], int] = {}

    def update(self, counts: Mapping[tuple[str, str | None], int]) -> None:
        self._counts = {(status, channel or ""): n for (status, channel), n in counts.items()}

    def collect(self) -> Iterable[Metric]:
        by_status = GaugeMetricFamily(
            "paygate_payments",
            "Payments by status and channel (refreshed on scrape)",
            labels=["status", "channel"],
        )
        for (status, channel), n in sorted(self._counts.items()):
            by_status.add_metric([status, channel], n)
        yield by_status
        yield GaugeMetricFamily(
            "paygate_payments_unknown",
            "Payments whose channel outcome is unknown and under inquiry",
            value=sum(n for (status, _), n in self._counts.items() if status == "unknown"),
        )


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        # In memory, or in the shared files once share_across_processes has run.
        self.multiprocess = bool(getattr(values.ValueClass, "_multiprocess", False))
        self.payment_counts = PaymentCounts()
        self.registry.register(self.payment_counts)
        self.requests = Histogram(
            "paygate_http_request_seconds",
            "HTTP requests by route and status",
            ["method", "route", "status"],
            registry=self.registry,
            buckets=_LATENCY_BUCKETS,
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
        if not self.multiprocess:
            return generate_latest(self.registry)
        merged = CollectorRegistry()
        MultiProcessCollector(merged)
        merged.register(self.payment_counts)
        return generate_latest(merged)
