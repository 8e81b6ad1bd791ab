from __future__ import annotations

import datetime as dt

import pytest

from routing import BreakerState, CircuitBreaker, OutcomeWindow

T0 = dt.datetime(2024, 6, 4, 10, 0, tzinfo=dt.UTC)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def test_breaker_opens_after_consecutive_failures_only() -> None:
    breaker = CircuitBreaker(failure_threshold=3, cool_down=dt.timedelta(seconds=30))
    breaker.record_failure(at(0))
    breaker.record_failure(at(1))
    breaker.record_success(at(2))  # resets the run
    breaker.record_failure(at(3))
    breaker.record_failure(at(4))
    assert breaker.state(at(4)) is BreakerState.CLOSED
    assert breaker.record_failure(at(5)) is BreakerState.OPEN
    assert breaker.state(at(34.9)) is BreakerState.OPEN


def test_breaker_half_opens_then_closes_or_reopens() -> None:
    breaker = CircuitBreaker(failure_threshold=1, cool_down=dt.timedelta(seconds=10))
    breaker.record_failure(at(0))
    assert breaker.state(at(10)) is BreakerState.HALF_OPEN
    assert breaker.record_failure(at(11)) is BreakerState.OPEN  # the probe failed
    assert breaker.state(at(20)) is BreakerState.OPEN
    assert breaker.state(at(21)) is BreakerState.HALF_OPEN
    assert breaker.record_success(at(22)) is BreakerState.CLOSED
    assert breaker.state(at(22)) is BreakerState.CLOSED


def test_breaker_rejects_nonsense_threshold() -> None:
    with pytest.raises(ValueError):
        CircuitBreaker(failure_threshold=0)


def test_outcome_window_slides() -> None:
    window = OutcomeWindow(span=dt.timedelta(seconds=60))
    assert window.success_rate(at(0)) == 1.0 and window.p95_latency_ms(at(0)) == 0.0
    for i in range(20):
        window.record(at(i), ok=i % 4 != 0, latency_ms=float(i + 1))
    assert window.success_rate(at(20)) == pytest.approx(15 / 20)
    assert window.p95_latency_ms(at(20)) == 19.0  # nearest rank: 19th of 20
    # At t=70 the outcomes at t<=10 have left the window: 9 remain (11..19), 2 failures (12, 16).
    assert window.count(at(70)) == 9
    assert window.success_rate(at(70)) == pytest.approx(7 / 9)
    assert window.success_rate(at(200)) == 1.0
