"""The gateway's own view of a load run: its request-latency histogram, read from ``/metrics``
before and after the run, for one route and status.

The load generator measures from each request's scheduled time, so its p99 includes the time
the machine took to run the generator, to deliver the bytes and to get the request read. The
server's histogram runs from the outermost middleware's entry to the handler's return (the
response is written right after), which includes the wait for the commit. Comparing the two
says whether a slow tail was spent in the gateway's handlers or around them. The histogram
has buckets, not samples: a quantile is reported as the bucket bound it falls under.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

HISTOGRAM = "paygate_http_request_seconds"


@dataclass(frozen=True)
class ServerLatency:
    requests: int
    p50_le_ms: float  # the bucket bound the median falls under (inf: above the last bucket)
    p99_le_ms: float
    within_20ms: float  # share of requests answered within 20 ms


def cumulative_buckets(exposition: str, method: str, route: str, status: str) -> dict[float, float]:
    """``le`` (seconds) -> cumulative count of the request histogram for one route/status."""
    out: dict[float, float] = {}
    for family in text_string_to_metric_families(exposition):
        if family.name != HISTOGRAM:
            continue
        for sample in family.samples:
            labels = sample.labels
            if (
                sample.name == HISTOGRAM + "_bucket"
                and labels.get("method") == method
                and labels.get("route") == route
                and labels.get("status") == status
            ):
                out[float(labels["le"])] = sample.value
    return out


def between(before: Mapping[float, float], after: Mapping[float, float]) -> ServerLatency:
    """What was observed between two readings of ``cumulative_buckets``."""
    bounds = sorted(after)
    counts = [after[le] - before.get(le, 0.0) for le in bounds]
    total = counts[-1] if counts else 0.0
    if total <= 0:
        return ServerLatency(0, 0.0, 0.0, 0.0)

    def quantile_le(q: float) -> float:
        for le, n in zip(bounds, counts, strict=True):
            if n >= q * total:
                return le * 1000.0
        return math.inf

    # NaN when the histogram has no 20 ms bound (the gateway's has, for this objective).
    within = after[0.020] - before.get(0.020, 0.0) if 0.020 in after else math.nan
    return ServerLatency(
        requests=round(total),
        p50_le_ms=quantile_le(0.50),
        p99_le_ms=quantile_le(0.99),
        within_20ms=within / total,
    )
