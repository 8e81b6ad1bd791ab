"""Reading the gateway's own latency histogram between two scrapes."""

from __future__ import annotations

import math

from prometheus_client import CollectorRegistry, Histogram, generate_latest

from paygate.bench.server_latency import between, cumulative_buckets

ROUTE = ("POST", "/v1/payments", "201")


def _histogram() -> tuple[CollectorRegistry, Histogram]:
    registry = CollectorRegistry()
    hist = Histogram(
        "paygate_http_request_seconds",
        "HTTP requests by route and status",
        ["method", "route", "status"],
        registry=registry,
        buckets=(0.005, 0.01, 0.015, 0.02, 0.05),
    )
    return registry, hist


def _read(registry: CollectorRegistry) -> dict[float, float]:
    return cumulative_buckets(generate_latest(registry).decode(), *ROUTE)


def test_only_what_happened_between_the_readings_counts() -> None:
    registry, hist = _histogram()
    for _ in range(500):  # before the run: slow, must not count
        hist.labels(*ROUTE).observe(0.040)
    before = _read(registry)
    for i in range(1000):
        hist.labels(*ROUTE).observe(0.003 if i < 600 else 0.012 if i < 985 else 0.030)
    hist.labels("GET", "/v1/payments", "200").observe(1.0)  # another route: ignored
    hist.labels("POST", "/v1/payments", "422").observe(1.0)  # another status: ignored
    seen = between(before, _read(registry))
    assert seen.requests == 1000
    assert seen.p50_le_ms == 5.0
    assert seen.p99_le_ms == 50.0  # 15 of 1000 over 20 ms: the 99th percentile is above it
    assert seen.within_20ms == 0.985


def test_a_tail_beyond_the_last_bucket_reads_as_infinite() -> None:
    registry, hist = _histogram()
    before = _read(registry)
    for i in range(100):
        hist.labels(*ROUTE).observe(0.001 if i < 98 else 3.0)
    seen = between(before, _read(registry))
    assert seen.p50_le_ms == 5.0
    assert math.isinf(seen.p99_le_ms)
    assert seen.within_20ms == 0.98


def test_no_requests_between_the_readings() -> None:
    registry, hist = _histogram()
    hist.labels(*ROUTE).observe(0.001)
    reading = _read(registry)
    assert between(reading, reading).requests == 0
