"""Open-loop and closed-loop HTTP load runs, and the search for the highest sustainable rate.

Open loop (``run_open_loop``): request *i* is due at ``t0 + i / rate``. A dispatcher wakes
up at each due time and launches every due request as its own asyncio task, whether or not
earlier requests have finished, so a slow server does not slow the arrival rate down (no
coordinated omission). Latency is measured from the *scheduled* time, so time a request spent
waiting for the generator, for a free pooled connection or for the server all counts. When
more than ``max_in_flight`` requests are outstanding a due request is *dropped* (not sent) and
counted; a request launched more than ``late_after_s`` after its due time is counted *late* —
that is the generator itself falling behind.

Closed loop (``run_closed_loop``): ``concurrency`` workers each send, wait for the answer and
send again; latency is measured from the actual send. It measures the most the generator and
server can do together, and is the number to compare with an open-loop maximum.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import aiohttp

from loadtest.bodies import request_stream
from loadtest.result import LoadResult, Recorder

START_DELAY_S = 0.05  # time to set the session up before the first due request
# An open loop's requests are made before it starts when there are at most this many (about
# 1 KB each): making a payment body costs the generator ~30 us, ~10% of its CPU per request,
# taken from the server it shares the machine with. Longer runs make them as they go.
PREPARED_MAX = 200_000


@contextmanager
def _frozen_heap() -> Iterator[None]:
    """Move every object alive now into the GC's permanent generation for the run, so
    collections during the run scan only what the run allocates (full collections over a big
    heap stalled the dispatcher for 100+ ms here and showed up as late sends)."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _session(connections: int, timeout_s: float) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=connections, limit_per_host=0, ttl_dns_cache=300)
    return aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=timeout_s)
    )


async def _request(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    body: bytes | None,
    headers: dict[str, str],
) -> int | str:
    """The HTTP status, or the kind of failure (``"timeout"``, an exception class name)."""
    try:
        async with session.request(method, url, data=body, headers=headers) as resp:
            await resp.read()
            return resp.status
    except TimeoutError:
        return "timeout"
    except (aiohttp.ClientError, OSError) as exc:
        return type(exc).__name__


@dataclass
class _Flight:
    in_flight: int = 0


async def run_open_loop(
    url: str,
    *,
    rate: float,
    duration_s: float,
    body_kind: str = "payment",
    headers: dict[str, str] | None = None,
    connections: int = 256,
    warmup_s: float = 0.0,
    seed: int = 1,
    method: str = "POST",
    max_in_flight: int | None = None,
    timeout_s: float = 10.0,
    late_after_s: float = 0.010,
) -> LoadResult:
    """Send ``rate × duration_s`` requests at a fixed arrival rate (after ``rate × warmup_s``
    unrecorded warm-up requests) and wait for every answer. ``max_in_flight`` defaults to
    ``max(1024, 8 × connections)``."""
    if rate <= 0 or duration_s <= 0 or warmup_s < 0:
        raise ValueError("rate and duration_s must be positive, warmup_s not negative")
    loop = asyncio.get_running_loop()
    cap = max_in_flight if max_in_flight is not None else max(1024, 8 * connections)
    total = round(rate * warmup_s) + round(rate * duration_s)
    stream = request_stream(body_kind if method.upper() != "GET" else "none", seed, headers)
    if total <= PREPARED_MAX:
        stream = iter(list(itertools.islice(stream, total)))
    with _frozen_heap():
        return await _open_loop(
            url,
            loop,
            body_kind,
            method,
            stream,
            connections,
            timeout_s,
            cap,
            rate,
            duration_s,
            warmup_s,
            late_after_s,
        )


async def _open_loop(
    url: str,
    loop: asyncio.AbstractEventLoop,
    body_kind: str,
    method: str,
    stream: Iterator[tuple[bytes | None, dict[str, str]]],
    connections: int,
    timeout_s: float,
    cap: int,
    rate: float,
    duration_s: float,
    warmup_s: float,
    late_after_s: float,
) -> LoadResult:
    interval = 1.0 / rate
    n_warm = round(rate * warmup_s)
    n_measured = round(rate * duration_s)
    total = n_warm + n_measured
    flight = _Flight()
    tasks: set[asyncio.Task[None]] = set()
    cpu0, wall0 = time.process_time(), time.monotonic()

    async with _session(connections, timeout_s) as session:
        t0 = loop.time() + START_DELAY_S
        rec = Recorder(start=t0 + n_warm * interval)

        async def one(body: bytes | None, hdrs: dict[str, str], due: float, measured: bool) -> None:
            try:
                if measured:
                    now = loop.time()
                    rec.sent(now, now - due, late_after_s)
                outcome = await _request(session, method, url, body, hdrs)
                if measured:
                    if isinstance(outcome, int):
                        rec.answer(outcome, due, loop.time())
                    else:
                        rec.failure(outcome, loop.time())
            finally:
                flight.in_flight -= 1

        try:
            i = 0
            while i < total:
                now = loop.time()
                due = t0 + i * interval
                if due > now:
                    await asyncio.sleep(due - now)
                    continue
                while i < total and t0 + i * interval <= now:
                    body, hdrs = next(stream)
                    measured = i >= n_warm
                    if flight.in_flight >= cap:
                        if measured:
                            rec.dropped += 1
                    else:
                        flight.in_flight += 1
                        task = loop.create_task(one(body, hdrs, t0 + i * interval, measured))
                        tasks.add(task)
                        task.add_done_callback(tasks.discard)
                    i += 1
                await asyncio.sleep(0)
            while tasks:
                await asyncio.gather(*list(tasks))
        finally:
            for task in tasks:
                task.cancel()
    return rec.result(
        mode="open",
        url=url,
        method=method.upper(),
        body_kind=body_kind,
        rate=rate,
        concurrency=0,
        duration_s=duration_s,
        warmup_s=warmup_s,
        scheduled=n_measured,
        cpu_s=time.process_time() - cpu0,
        wall_s=time.monotonic() - wall0,
        end=rec.start + duration_s,
    )


async def run_closed_loop(
    url: str,
    *,
    concurrency: int,
    duration_s: float,
    body_kind: str = "payment",
    headers: dict[str, str] | None = None,
    connections: int | None = None,
    warmup_s: float = 0.0,
    seed: int = 1,
    method: str = "POST",
    timeout_s: float = 10.0,
) -> LoadResult:
    """``concurrency`` workers send back to back for ``warmup_s + duration_s`` seconds;
    only requests sent inside the measured window are recorded."""
    if concurrency <= 0 or duration_s <= 0 or warmup_s < 0:
        raise ValueError("concurrency and duration_s must be positive, warmup_s not negative")
    loop = asyncio.get_running_loop()
    stream = request_stream(body_kind if method.upper() != "GET" else "none", seed, headers)
    cpu0, wall0 = time.process_time(), time.monotonic()
    with _frozen_heap():
        async with _session(connections or concurrency, timeout_s) as session:
            start = loop.time() + warmup_s
            stop = start + duration_s
            rec = Recorder(start=start)

            async def worker() -> None:
                while (sent_at := loop.time()) < stop:
                    body, hdrs = next(stream)
                    measured = sent_at >= start
                    if measured:
                        rec.sent(sent_at, 0.0, late_after=1.0)
                    outcome = await _request(session, method, url, body, hdrs)
                    if measured:
                        if isinstance(outcome, int):
                            rec.answer(outcome, sent_at, loop.time())
                        else:
                            rec.failure(outcome, loop.time())

            await asyncio.gather(*(worker() for _ in range(concurrency)))
    return rec.result(
        mode="closed",
        url=url,
        method=method.upper(),
        body_kind=body_kind,
        rate=0.0,
        concurrency=concurrency,
        duration_s=duration_s,
        warmup_s=warmup_s,
        scheduled=rec.sent_count,
        cpu_s=time.process_time() - cpu0,
        wall_s=time.monotonic() - wall0,
        end=stop,
    )


def sustainable(
    result: LoadResult,
    *,
    p99_limit_ms: float = 100.0,
    max_error_ratio: float = 0.001,
    min_achieved_ratio: float = 0.95,
) -> bool:
    """Did an open-loop step keep up: nothing dropped, few errors, p99 within the limit and
    the completed rate close to the target rate?"""
    return (
        result.dropped == 0
        and result.error_count <= max_error_ratio * max(1, result.scheduled)
        and result.p99_ms <= p99_limit_ms
        and result.achieved_rps >= min_achieved_ratio * result.rate
    )


async def find_max_rate(
    url: str,
    *,
    start_rate: float,
    body_kind: str = "payment",
    headers: dict[str, str] | None = None,
    connections: int = 256,
    step_s: float = 2.0,
    warmup_s: float = 0.5,
    growth: float = 1.5,
    max_rate: float | None = None,
    max_steps: int = 12,
    refine_steps: int = 2,
    p99_limit_ms: float = 100.0,
    max_error_ratio: float = 0.001,
    min_achieved_ratio: float = 0.95,
    seed: int = 1,
    method: str = "POST",
    on_step: Callable[[LoadResult, bool], None] | None = None,
) -> float:
    """Raise the open-loop rate by ``growth`` per short step until a step is not
    ``sustainable``, then bisect ``refine_steps`` times between the last good and the first bad
    rate. Returns the highest sustainable rate seen (0.0 if even ``start_rate`` was not, after
    bisecting below it). At most ``max_steps + refine_steps`` steps run."""
    if start_rate <= 0 or growth <= 1.0:
        raise ValueError("start_rate must be positive and growth > 1")
    step = 0

    async def probe(rate: float) -> bool:
        nonlocal step
        step += 1
        result = await run_open_loop(
            url,
            rate=rate,
            duration_s=step_s,
            body_kind=body_kind,
            headers=headers,
            connections=connections,
            warmup_s=warmup_s,
            seed=seed + step,
            method=method,
        )
        ok = sustainable(
            result,
            p99_limit_ms=p99_limit_ms,
            max_error_ratio=max_error_ratio,
            min_achieved_ratio=min_achieved_ratio,
        )
        if on_step is not None:
            on_step(result, ok)
        await asyncio.sleep(0.2)  # let the server drain between steps
        return ok

    best = 0.0
    failed: float | None = None
    rate = start_rate
    for _ in range(max_steps):
        if await probe(rate):
            best = rate
            if max_rate is not None and rate >= max_rate:
                return best
            rate = rate * growth if max_rate is None else min(rate * growth, max_rate)
        else:
            failed = rate
            break
    if failed is None:
        return best
    for _ in range(refine_steps):
        mid = (best + failed) / 2
        if await probe(mid):
            best = mid
        else:
            failed = mid
    return best
