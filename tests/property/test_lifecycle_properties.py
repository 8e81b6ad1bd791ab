"""Property: under any interleaving of channel outcomes, a payment never leaves a final state
and never has two accepted/settled submissions. Runs the real dispatcher on the real database;
only the wire is scripted, so every outcome the transport can report is reachable."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import asyncpg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paygate.channels.base import HttpCall
from paygate.channels.json_rail import JsonRail
from paygate.channels.registry import ChannelEndpoint
from paygate.channels.transport import Reply
from paygate.config import Settings
from paygate.domain import FINAL, PaymentOrder
from paygate.engine.clock import SimulatedClock
from paygate.engine.dispatcher import Collaborators, Dispatcher
from paygate.engine.health import ChannelHealth
from paygate.engine.metrics import Metrics
from paygate.engine.routing_service import RoutingService
from paygate.errors import ChannelUnavailable, OutcomeUnknown
from paygate.store import payments as repo
from paygate.store.clients import ensure_client
from paygate.store.migrate import migrate
from routing import load_config_text
from tests.integration.gateway.harness import order

CONFIG = """
version: prop-1
channels:
  - id: a
    kind: card
    currencies: [EUR]
    calendar: {always_open: true}
    latency: {expected_seconds: 1}
    fees: [{currency: EUR, from: 0, fixed: 1.00}]
  - id: b
    kind: card
    currencies: [EUR]
    calendar: {always_open: true}
    latency: {expected_seconds: 1}
    fees: [{currency: EUR, from: 0, fixed: 2.00}]
rules:
  - {kind: default, id: cheapest}
"""

WIRE = [
    "settled",
    "accepted",
    "received",
    "rejected",
    "timeout",
    "unavailable",
    "5xx",
    "not_found",
    "garbage",
]


class ScriptedRail:
    """A consistent rail whose choices come from a script: it de-duplicates on the reference,
    remembers what it settled, and answers inquiries truthfully. Only its answers are lost or
    garbled, as a real network would."""

    def __init__(self, script: list[str]) -> None:
        self.script = list(script)
        self.state: dict[tuple[str, str], str] = {}

    def _next(self) -> str:
        return self.script.pop(0) if self.script else "settled"

    async def send(self, base_url: str, call: HttpCall, *, inquiry: bool = False) -> Reply:
        ref = json.loads(call.body)["reference"] if call.body else call.path.rsplit("/", 1)[-1]
        key = (base_url, ref)
        step = self._next()
        known = self.state.get(key)
        if inquiry:
            if known is None:
                return Reply(404, b"")
            if known in ("accepted", "received") and step in ("settled", "rejected"):
                self.state[key] = known = step
            if step in ("timeout", "5xx"):
                raise OutcomeUnknown("scripted loss of the inquiry answer")
            return self._reply(known)
        if known is not None:  # de-duplication: the original result
            return self._reply(known)
        if step == "unavailable":
            raise ChannelUnavailable("scripted refusal")
        if step == "not_found":
            raise OutcomeUnknown("request lost before it reached the rail")
        if step in ("timeout", "5xx", "garbage"):
            self.state[key] = "settled"
            if step == "garbage":
                return Reply(200, b"<html>")
            raise OutcomeUnknown("settled, then the answer was lost")
        self.state[key] = step
        return self._reply(step)

    @staticmethod
    def _reply(status: str) -> Reply:
        return Reply(200, json.dumps({"status": status, "reason": "AM04"}).encode())


async def _run(dsn: str, script: list[str]) -> None:
    conn = await asyncpg.connect(dsn)
    await migrate(conn)
    await conn.close()
    from paygate.store.database import _init_connection

    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=4, init=_init_connection)
    assert pool is not None
    try:
        async with pool.acquire() as c:
            await c.execute("TRUNCATE payments, payment_events, submissions")
            client = await ensure_client(c, "prop")
        body = order(1)
        parsed = PaymentOrder.model_validate(body)
        now = dt.datetime(2026, 11, 24, 10, tzinfo=dt.UTC)
        await repo.insert_payment(
            pool,
            repo.NewPayment(client, uuid.uuid4().hex, b"f", parsed, parsed.model_dump(mode="json")),
            now,
        )
        transport = ScriptedRail(script)
        settings_ = Settings(
            database_url=dsn,
            inquiry_backoff_s=0.0001,
            inquiry_max_attempts=50,
            max_submission_attempts=2,
        )
        endpoints = {c: ChannelEndpoint(c, f"http://{c}", JsonRail(c)) for c in ("a", "b")}

        async def no_sleep(_: float) -> None:
            return None

        dispatcher = Dispatcher(
            Collaborators(
                pool=pool,
                settings=settings_,
                routing=RoutingService(load_config_text(CONFIG)),
                health=ChannelHealth(failure_threshold=1000),
                endpoints=endpoints,
                transport=transport,  # type: ignore[arg-type]
                clock=SimulatedClock(now),
                metrics=Metrics(),
                sleep=no_sleep,
            )
        )
        for _ in range(200):
            await pool.execute(
                "UPDATE payments SET next_action_at = now() WHERE next_action_at IS NOT NULL"
            )
            await dispatcher.run_until_idle(max_rounds=1)
            if await pool.fetchval("SELECT next_action FROM payments") is None:
                break
        rows = await pool.fetch("SELECT to_status, from_status FROM payment_events ORDER BY id")
        statuses = [r["to_status"] for r in rows]
        for i, status in enumerate(statuses):
            if status in FINAL:
                assert all(s == status for s in statuses[i:]), statuses
        subs = await pool.fetch("SELECT channel, state FROM submissions")
        assert sum(1 for s in subs if s["state"] in ("settled", "accepted")) <= 1, subs
        settled_at_rails = [k for k, v in transport.state.items() if v == "settled"]
        assert len(settled_at_rails) <= 1, transport.state
        final = await pool.fetchval("SELECT status FROM payments")
        # The engine always reaches a decision the rails agree with.
        assert final in ("settled", "rejected", "failed"), (final, statuses)
        if final == "settled":
            assert len(settled_at_rails) == 1
        if final in ("rejected", "failed"):
            assert settled_at_rails == []
    finally:
        await pool.close()


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(script=st.lists(st.sampled_from(WIRE), max_size=12))
def test_lifecycle_never_pays_twice(fresh_dsn: str, script: list[str]) -> None:
    # A fresh thread, so that this event loop never touches the session's loop.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, _run(fresh_dsn, script)).result()
