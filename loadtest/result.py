"""What one load run measured: the recorder the runners feed, and the result they return.

Latencies are recorded in microseconds in an HdrHistogram (1 µs .. 60 s, 3 significant
digits) for the whole measured window, and in one HdrHistogram per second of the run for the
latency-over-time plot. ``LoadResult.write`` saves a JSON summary (with the encoded histogram,
so runs can be merged later) and a PNG plot; ``render_table`` builds the rich table.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hdrh.histogram import HdrHistogram
from rich.table import Table

LOWEST_US = 1
HIGHEST_US = 60_000_000
SIGNIFICANT_DIGITS = 3
PERCENTILES = (50.0, 90.0, 99.0, 99.9)


def new_histogram() -> HdrHistogram:
    return HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)


def _ms(histogram: HdrHistogram, percentile: float) -> float:
    if histogram.get_total_count() == 0:
        return 0.0
    return float(histogram.get_value_at_percentile(percentile)) / 1000.0


def _max_ms(histogram: HdrHistogram) -> float:
    if histogram.get_total_count() == 0:
        return 0.0
    return float(histogram.get_max_value()) / 1000.0


@dataclass(frozen=True)
class Second:
    """One second of the measured window (by completion time; ``sent`` by send time)."""

    t: int
    sent: int
    completed: int
    errors: int
    p50_ms: float | None
    p99_ms: float | None
    max_ms: float | None


@dataclass
class LoadResult:
    """Outcome of one run. ``errors`` maps an HTTP status (``"503"``) or an exception kind
    (``"timeout"``, ``"ClientConnectorError"``) to a count; ``completed`` counts 2xx answers.
    Latencies (ms) are over every request that got an HTTP answer, measured from the
    *scheduled* send time in open-loop mode and from the actual send time in closed-loop mode.
    ``achieved_rps`` is 2xx answers per second over the span the answers arrived in (at least
    ``duration_s``); ``client_cpu_util`` is the generator process's CPU time over the run's
    wall time (1.0 = one core busy: the generator itself is then the bottleneck).
    """

    mode: str
    url: str
    method: str
    body_kind: str
    rate: float
    concurrency: int
    duration_s: float
    warmup_s: float
    scheduled: int
    sent: int
    completed: int
    errors: dict[str, int]
    dropped: int
    late: int
    max_send_lag_ms: float
    elapsed_s: float
    achieved_rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float
    mean_ms: float
    client_cpu_s: float
    client_cpu_util: float
    timeline: list[Second]
    histogram: HdrHistogram = field(repr=False, compare=False)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if k != "histogram"}
        data["percentiles_ms"] = {
            f"p{p:g}": _ms(self.histogram, p) for p in (*PERCENTILES, 99.99, 100.0)
        }
        data["hdr_histogram"] = self.histogram.encode().decode("ascii")
        return data

    def write(self, out_dir: Path, name: str = "loadtest") -> None:
        """Write ``<name>.json`` (summary) and ``<name>.png`` (latency over time) to out_dir."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / f"{name}.json").write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        plot_timeline(self, out_dir / f"{name}.png")


class Recorder:
    """Collects outcomes; the runners call ``sent``/``answer``/``failure`` with loop times."""

    def __init__(self, start: float) -> None:
        self.start = start  # loop time at which the measured window begins
        self.histogram = new_histogram()
        self.per_second: dict[int, HdrHistogram] = {}
        self.sent_per_second: dict[int, int] = {}
        self.ok_per_second: dict[int, int] = {}
        self.err_per_second: dict[int, int] = {}
        self.sent_count = 0
        self.completed = 0
        self.dropped = 0
        self.late = 0
        self.max_send_lag = 0.0
        self.errors: dict[str, int] = {}
        self.first_done: float | None = None
        self.last_done = start

    def _second(self, t: float) -> int:
        return max(0, int(t - self.start))

    def sent(self, at: float, lag: float, late_after: float) -> None:
        self.sent_count += 1
        s = self._second(at)
        self.sent_per_second[s] = self.sent_per_second.get(s, 0) + 1
        self.max_send_lag = max(self.max_send_lag, lag)
        if lag > late_after:
            self.late += 1

    def answer(self, status: int, origin: float, done: float) -> None:
        latency_us = min(HIGHEST_US, max(LOWEST_US, round((done - origin) * 1e6)))
        self.histogram.record_value(latency_us)
        s = self._second(done)
        hist = self.per_second.get(s)
        if hist is None:
            hist = self.per_second[s] = new_histogram()
        hist.record_value(latency_us)
        self._done(done)
        if 200 <= status < 300:
            self.completed += 1
            self.ok_per_second[s] = self.ok_per_second.get(s, 0) + 1
        else:
            self._error(str(status), s)

    def failure(self, kind: str, done: float) -> None:
        self._done(done)
        self._error(kind, self._second(done))

    def _done(self, done: float) -> None:
        self.last_done = max(self.last_done, done)
        if self.first_done is None or done < self.first_done:
            self.first_done = done

    def throughput(self, duration_s: float) -> float:
        """2xx answers per second over the span in which answers arrived, but never a span
        shorter than the nominal duration: n answers spread evenly over ``duration_s`` give
        n / duration_s; a server that falls behind spreads them wider and scores lower."""
        done = self.completed + sum(self.errors.values())
        span = duration_s
        if self.first_done is not None and done > 1:
            span = max(span, (self.last_done - self.first_done) * done / (done - 1))
        return self.completed / span if span > 0 else 0.0

    def _error(self, kind: str, s: int) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1
        self.err_per_second[s] = self.err_per_second.get(s, 0) + 1

    def result(
        self,
        *,
        mode: str,
        url: str,
        method: str,
        body_kind: str,
        rate: float,
        concurrency: int,
        duration_s: float,
        warmup_s: float,
        scheduled: int,
        cpu_s: float,
        wall_s: float,
        end: float,
    ) -> LoadResult:
        elapsed = max(end, self.last_done) - self.start
        seconds = set(self.per_second) | set(self.sent_per_second) | set(self.err_per_second)
        timeline = [
            Second(
                t=s,
                sent=self.sent_per_second.get(s, 0),
                completed=self.ok_per_second.get(s, 0),
                errors=self.err_per_second.get(s, 0),
                p50_ms=_ms(self.per_second[s], 50.0) if s in self.per_second else None,
                p99_ms=_ms(self.per_second[s], 99.0) if s in self.per_second else None,
                max_ms=_max_ms(self.per_second[s]) if s in self.per_second else None,
            )
            for s in sorted(seconds)
        ]
        h = self.histogram
        return LoadResult(
            mode=mode,
            url=url,
            method=method,
            body_kind=body_kind,
            rate=rate,
            concurrency=concurrency,
            duration_s=duration_s,
            warmup_s=warmup_s,
            scheduled=scheduled,
            sent=self.sent_count,
            completed=self.completed,
            errors=dict(sorted(self.errors.items())),
            dropped=self.dropped,
            late=self.late,
            max_send_lag_ms=self.max_send_lag * 1000.0,
            elapsed_s=elapsed,
            achieved_rps=self.throughput(duration_s),
            p50_ms=_ms(h, 50.0),
            p90_ms=_ms(h, 90.0),
            p99_ms=_ms(h, 99.0),
            p999_ms=_ms(h, 99.9),
            max_ms=_max_ms(h),
            mean_ms=float(h.get_mean_value()) / 1000.0 if h.get_total_count() else 0.0,
            client_cpu_s=cpu_s,
            client_cpu_util=cpu_s / wall_s if wall_s > 0 else 0.0,
            timeline=timeline,
            histogram=h,
        )


def render_table(result: LoadResult, title: str | None = None) -> Table:
    """A two-column rich table summarising ``result``."""
    table = Table(title=title or f"{result.mode}-loop load: {result.method} {result.url}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    if result.mode == "open":
        table.add_row("target rate", f"{result.rate:,.0f} req/s for {result.duration_s:g} s")
        table.add_row("scheduled", f"{result.scheduled:,}")
    else:
        table.add_row("concurrency", f"{result.concurrency} for {result.duration_s:g} s")
    table.add_row("sent", f"{result.sent:,}")
    table.add_row("completed (2xx)", f"{result.completed:,}")
    errors = ", ".join(f"{k}: {v:,}" for k, v in result.errors.items()) or "none"
    table.add_row("errors", errors)
    if result.mode == "open":
        table.add_row("dropped (in-flight cap)", f"{result.dropped:,}")
        table.add_row(
            "late sends (generator lag)",
            f"{result.late:,} (max lag {result.max_send_lag_ms:,.1f} ms)",
        )
    table.add_row("achieved rate", f"{result.achieved_rps:,.0f} req/s")
    for label, value in (
        ("p50", result.p50_ms),
        ("p90", result.p90_ms),
        ("p99", result.p99_ms),
        ("p99.9", result.p999_ms),
        ("max", result.max_ms),
    ):
        table.add_row(f"latency {label}", f"{value:,.2f} ms")
    table.add_row(
        "generator CPU",
        f"{result.client_cpu_s:,.1f} s ({result.client_cpu_util:.0%} of one core)",
    )
    return table


def plot_timeline(result: LoadResult, path: Path) -> None:
    """PNG: p50/p99 latency per second (top) and sent/completed/errors per second (bottom)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import ScalarFormatter

    fig = Figure(figsize=(9, 6), dpi=100)
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1, sharex=True)
    t = [s.t for s in result.timeline]
    p50 = [math.nan if s.p50_ms is None else s.p50_ms for s in result.timeline]
    p99 = [math.nan if s.p99_ms is None else s.p99_ms for s in result.timeline]
    top.plot(t, p50, marker="o", label="p50")
    top.plot(t, p99, marker="o", label="p99")
    top.set_ylabel("latency (ms)")
    shown = [v for v in p99 if v > 0]
    if shown and max(shown) > 20 * min(shown):
        top.set_yscale("log")
        top.yaxis.set_major_formatter(ScalarFormatter())
    else:
        top.set_ylim(bottom=0)
    top.grid(True, which="both", alpha=0.3)
    top.legend(loc="upper left")
    basis = "scheduled send" if result.mode == "open" else "actual send"
    top.set_title(
        f"{result.mode}-loop {result.method} {result.url} — latency from {basis}", fontsize=10
    )
    bottom.plot(t, [s.sent for s in result.timeline], marker=".", label="sent/s")
    bottom.plot(t, [s.completed for s in result.timeline], marker=".", label="completed/s")
    if any(s.errors for s in result.timeline):
        bottom.plot(t, [s.errors for s in result.timeline], marker=".", label="errors/s")
    if result.mode == "open":
        bottom.axhline(result.rate, linestyle="--", color="grey", label="target rate")
    bottom.set_xlabel("second of the measured window")
    bottom.set_ylabel("requests / s")
    bottom.set_ylim(bottom=0)
    bottom.grid(True, alpha=0.3)
    bottom.legend(loc="lower left")
    fig.tight_layout()
    fig.savefig(str(path))
