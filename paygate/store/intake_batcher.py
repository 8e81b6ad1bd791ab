"""Write coalescing for intake: concurrent ``insert_payment`` calls become one statement.

One asyncpg round trip (and one commit, one WAL flush) per payment tops out near 2.6k/s on a
small machine. ``IntakeBatcher.insert`` parks the caller, gathers what arrives within
``window_ms`` (or until ``max_items`` are waiting; with ``window_ms`` 0, the default, what
arrives in one event-loop turn, plus whatever queues while the writers are busy: group commit
without a fixed delay), and writes them all with
``payments.insert_payments``: one multi-row ``INSERT ... ON CONFLICT DO NOTHING`` that also
writes the intake events. Every caller then gets exactly what ``insert_payment`` would have
given it: created + response, the stored response on a replay, or ``IdempotencyConflict``.
A caller is only answered after the statement committed, so "durable before acknowledged"
holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections import deque
from typing import Any

import asyncpg

from paygate.errors import StateError
from paygate.logs import get_logger
from paygate.store import payments as repo

_Item = tuple[repo.NewPayment, dt.datetime, "asyncio.Future[tuple[bool, dict[str, Any]]]"]

log = get_logger("paygate.intake")


class IntakeBatcher:
    """Coalesce concurrent intake INSERTs.

    Batches are cut every ``window_ms`` (or at ``max_items``) and written by ``writers`` tasks,
    each holding one pool connection for its lifetime: that saves the pool's reset round trip
    per batch, and while the writers are busy the next batch simply grows.
    """

    def __init__(
        self, pool: asyncpg.Pool, window_ms: float, max_items: int = 256, writers: int = 2
    ) -> None:
        self._pool = pool
        self._window_s = max(window_ms, 0.0) / 1000.0
        self._max_items = max(max_items, 1)
        self._n_writers = max(writers, 1)
        self._pending: list[_Item] = []
        self._timer: asyncio.TimerHandle | asyncio.Handle | None = None
        # Cut batches waiting for a free writer; a new cut joins the last one while it fits,
        # so under load batches grow instead of queueing up small.
        self._ready: deque[list[_Item]] = deque()
        self._wake = asyncio.Event()
        self._writers: list[asyncio.Task[None]] = []
        self._closed = False
        self.statements = 0  # multi-row statements written (for metrics and tests)

    async def insert(self, new: repo.NewPayment, now: dt.datetime) -> tuple[bool, dict[str, Any]]:
        """Same contract as ``payments.insert_payment``."""
        if self._closed:
            raise StateError("the intake is shutting down; retry the request")
        loop = asyncio.get_running_loop()
        if not self._writers:
            self._writers = [loop.create_task(self._writer()) for _ in range(self._n_writers)]
        future: asyncio.Future[tuple[bool, dict[str, Any]]] = loop.create_future()
        self._pending.append((new, now, future))
        if len(self._pending) >= self._max_items:
            self._flush()
        elif self._timer is None:
            if self._window_s > 0:
                self._timer = loop.call_later(self._window_s, self._flush)
            else:
                self._timer = loop.call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        if self._ready and len(self._ready[-1]) + len(batch) <= self._max_items:
            self._ready[-1].extend(batch)
        else:
            self._ready.append(batch)
        self._wake.set()

    async def _next_batch(self) -> list[_Item] | None:
        while not self._ready:
            if self._closed:
                return None
            self._wake.clear()
            await self._wake.wait()
        return self._ready.popleft()

    async def _writer(self) -> None:
        conn: asyncpg.Connection | None = None
        try:
            while (batch := await self._next_batch()) is not None:
                try:
                    if conn is None:
                        conn = await self._pool.acquire()
                    await self._write(conn, batch)
                except (OSError, asyncpg.InterfaceError) as exc:
                    _fail(batch, exc)  # the connection is gone: take a fresh one next time
                    if conn is not None:
                        await _release(self._pool, conn)
                        conn = None
                except Exception:  # a bug must not stop the writer; its callers get an error
                    log.exception("intake batch failed", size=len(batch))
                finally:  # whatever went wrong, no caller is left waiting forever
                    _fail(batch, StateError("the payment could not be recorded; retry"))
        finally:
            if conn is not None:
                await _release(self._pool, conn)

    async def _write(self, conn: asyncpg.Connection, batch: list[_Item]) -> None:
        self.statements += 1
        try:
            outcomes = await repo.insert_payments(conn, [(n, at) for n, at, _ in batch])
        except asyncpg.PostgresError as exc:
            if len(batch) == 1:
                _fail(batch, exc)
                return
            # One bad row must not fail its neighbours: fall back to one statement each.
            for item in batch:
                await self._write(conn, [item])
            return
        for (_, _, future), outcome in zip(batch, outcomes, strict=True):
            if future.done():  # the caller went away; the row is written all the same
                continue
            if isinstance(outcome, Exception):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    async def close(self) -> None:
        """Write what is waiting and wait for writes in flight; later calls are refused."""
        self._closed = True
        self._flush()
        self._wake.set()
        if self._writers:
            await asyncio.gather(*self._writers, return_exceptions=True)
        self._writers = []


async def _release(pool: asyncpg.Pool, conn: asyncpg.Connection) -> None:
    with contextlib.suppress(OSError, asyncpg.InterfaceError, asyncpg.PostgresError):
        await pool.release(conn)


def _fail(batch: list[_Item], exc: BaseException) -> None:
    for _, _, future in batch:
        if not future.done():
            future.set_exception(exc)
