"""The load generator against real HTTP servers on 127.0.0.1 (ephemeral ports).

No timed assertions: the bounds below follow from the request schedule and from how long the
servers are made to sleep, so they hold however slow the machine is.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web

from loadtest import LoadResult, find_max_rate, run_closed_loop, run_open_loop
from loadtest.echo import start_echo

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
async def echo_url() -> AsyncIterator[str]:
    runner, url = await start_echo("127.0.0.1", 0)
    try:
        yield url
    finally:
        await runner.cleanup()


@pytest.fixture
async def slow_url() -> AsyncIterator[str]:
    """Echo server that sleeps 200 ms before every answer."""
    runner, url = await start_echo("127.0.0.1", 0, delay_s=0.2)
    try:
        yield url
    finally:
        await runner.cleanup()


async def _serve(handler: Callable[[web.Request], Awaitable[web.Response]]) -> web.AppRunner:
    app = web.Application()
    app.router.add_post("/v1/payments", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner


def _url(runner: web.AppRunner) -> str:
    host, port = runner.addresses[0][:2]
    return f"http://{host}:{port}/v1/payments"


async def test_sends_the_schedule_and_writes_json_and_png(echo_url: str, tmp_path: Path) -> None:
    result = await run_open_loop(echo_url, rate=200, duration_s=1.0, body_kind="echo")
    assert abs(result.sent - 200) <= 1
    assert result.scheduled == 200
    assert result.completed == result.sent
    assert result.errors == {}
    assert result.dropped == 0
    assert result.histogram.get_total_count() == result.completed
    assert 0 < result.p50_ms <= result.p99_ms <= result.max_ms
    assert sum(s.completed for s in result.timeline) == result.completed
    assert sum(s.sent for s in result.timeline) == result.sent

    result.write(tmp_path / "out")
    png = (tmp_path / "out" / "loadtest.png").read_bytes()
    assert png.startswith(PNG_MAGIC) and len(png) > 5_000
    summary = json.loads((tmp_path / "out" / "loadtest.json").read_text())
    assert summary["sent"] == result.sent
    assert summary["completed"] == result.completed
    assert summary["p99_ms"] == result.p99_ms
    assert summary["hdr_histogram"].startswith("HIST")
    assert len(summary["timeline"]) == len(result.timeline)


async def test_payment_requests_are_posts_with_unique_keys_and_valid_shape() -> None:
    seen: list[tuple[str, dict[str, object]]] = []

    async def intake(request: web.Request) -> web.Response:
        assert request.content_type == "application/json"
        seen.append((request.headers["Idempotency-Key"], await request.json()))
        assert request.headers["Authorization"] == "Bearer test-key"
        return web.json_response({"id": len(seen)}, status=201)

    runner = await _serve(intake)
    try:
        result = await run_open_loop(
            _url(runner),
            rate=100,
            duration_s=1.0,
            warmup_s=0.2,
            headers={"Authorization": "Bearer test-key"},
        )
    finally:
        await runner.cleanup()
    assert result.sent == 100 and result.completed == 100 and result.errors == {}
    assert len(seen) == 120  # warm-up requests are sent but not recorded
    assert len({key for key, _ in seen}) == 120
    assert len({doc["end_to_end_id"] for _, doc in seen}) == 120
    keys = {
        "amount",
        "debtor",
        "debtor_account",
        "creditor",
        "creditor_account",
        "creditor_agent",
        "end_to_end_id",
        "remittance",
        "product",
    }
    assert all(set(doc) == keys for _, doc in seen)


async def test_open_loop_keeps_the_schedule_when_the_server_is_slow(slow_url: str) -> None:
    # 4 connections to a server that takes >= 200 ms per request serve at most 20 req/s.
    # A closed loop would slow down to that; the open loop still sends all 50 on schedule,
    # and the wait for a connection shows up as latency measured from the scheduled time.
    result = await run_open_loop(slow_url, rate=50, duration_s=1.0, body_kind="echo", connections=4)
    assert result.sent == 50 == result.scheduled
    assert result.completed == 50 and result.dropped == 0
    assert result.histogram.get_min_value() >= 199_000  # µs: never below the server's sleep
    assert result.p50_ms >= 200.0
    # the last request, due at 0.98 s, cannot finish before 50/4 rounds × 200 ms = 2.4+ s
    assert result.max_ms >= 1_400.0
    # latency grows while the backlog builds: an answer in second 0 waited < 1 s, one after
    # 2 s was due by 0.98 s and so waited > 1 s
    assert result.timeline[-1].t >= 2
    for second in result.timeline:
        if second.t == 0 and second.p50_ms is not None:
            assert second.p50_ms <= 1_001.0
        if second.t >= 2:
            assert second.p50_ms is not None and second.p50_ms >= 1_000.0

    closed = await run_closed_loop(
        slow_url, concurrency=4, duration_s=1.0, body_kind="echo", connections=4
    )
    # each of 4 workers fits at most 5 sends of >= 200 ms into 1 s
    assert closed.sent <= 20 < result.sent
    assert closed.histogram.get_min_value() >= 199_000


async def test_in_flight_cap_drops_and_reports(slow_url: str) -> None:
    # 25 due in 0.5 s, none can finish before 200 ms, so requests 6..10 (due < 200 ms)
    # find 5 already in flight and are dropped (unless the event loop stalled for 200 ms).
    result = await run_open_loop(
        slow_url, rate=50, duration_s=0.5, body_kind="echo", max_in_flight=5
    )
    assert result.sent + result.dropped == 25
    assert result.dropped >= 5
    assert result.completed == result.sent


async def test_find_max_rate_stops_below_server_capacity() -> None:
    gate = asyncio.Semaphore(1)

    async def one_at_a_time(request: web.Request) -> web.Response:
        await request.read()
        async with gate:  # at most 1 / 20 ms = 50 req/s
            await asyncio.sleep(0.02)
        return web.json_response({}, status=201)

    runner = await _serve(one_at_a_time)
    steps: list[tuple[LoadResult, bool]] = []
    try:
        best = await find_max_rate(
            _url(runner),
            start_rate=10,
            growth=2.0,
            step_s=0.5,
            warmup_s=0.0,
            refine_steps=1,
            max_steps=5,
            on_step=lambda r, ok: steps.append((r, ok)),
        )
    finally:
        await runner.cleanup()
    assert 10 <= best < 80
    assert [round(r.rate) for r, _ in steps[:4]] == [10, 20, 40, 80]
    assert steps[3][1] is False  # 80 req/s is beyond capacity: not sustainable
    assert all(r.rate <= best for r, ok in steps if ok)
