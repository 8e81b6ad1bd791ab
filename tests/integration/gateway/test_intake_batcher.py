"""Write coalescing for intake against a real PostgreSQL: one statement, per-caller answers."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

from paygate.api.payments import fingerprint
from paygate.domain import PaymentOrder, parse_model
from paygate.errors import IdempotencyConflict
from paygate.store import payments as repo
from paygate.store.database import Database
from paygate.store.intake_batcher import IntakeBatcher
from tests.integration.gateway.harness import order, running_gateway, settings_for

CLIENT = uuid.UUID("00000000-0000-4000-8000-000000000001")
NOW = dt.datetime(2026, 11, 24, 9, 30, tzinfo=dt.UTC)


def new_payment(key: str, body: dict[str, Any], client: uuid.UUID = CLIENT) -> repo.NewPayment:
    parsed = parse_model(PaymentOrder, body)
    return repo.NewPayment(
        client_id=client,
        idempotency_key=key,
        fingerprint=fingerprint(body),
        order=parsed,
        order_doc=parsed.model_dump(mode="json"),
    )


async def settle(
    batcher: IntakeBatcher, items: list[repo.NewPayment]
) -> list[tuple[bool, dict[str, Any]] | BaseException]:
    return await asyncio.gather(
        *(batcher.insert(item, NOW) for item in items), return_exceptions=True
    )


async def _count(db: Database, sql: str = "SELECT count(*) FROM payments") -> int:
    return int(await db.pool.fetchval(sql))


async def test_concurrent_inserts_become_one_statement(database: Database) -> None:
    # A window far longer than the test: the 20th arrival fills the batch and flushes it.
    batcher = IntakeBatcher(database.pool, window_ms=60_000, max_items=20)
    results = await settle(batcher, [new_payment(f"k-{n}", order(n)) for n in range(20)])
    assert batcher.statements == 1
    assert all(isinstance(r, tuple) and r[0] for r in results)
    ids = {r[1]["id"] for r in results if isinstance(r, tuple)}
    assert len(ids) == 20
    assert await _count(database) == 20
    for r in results:
        assert isinstance(r, tuple)
        row = await repo.get_payment(database.pool, uuid.UUID(r[1]["id"]), CLIENT)
        assert row.status.value == "validated" and row.next_action == "dispatch"
        assert row.amount == Decimal(r[1]["amount"]["value"])
        assert [(e.from_status, e.to_status) for e in await repo.events(database.pool, row.id)] == [
            (None, "received"),
            ("received", "validated"),
        ]
    await batcher.close()


async def test_fifty_identical_in_one_batch_make_one_row(database: Database) -> None:
    batcher = IntakeBatcher(database.pool, window_ms=60_000, max_items=50)
    results = await settle(batcher, [new_payment("same", order(7)) for _ in range(50)])
    assert batcher.statements == 1
    assert all(isinstance(r, tuple) for r in results)
    created = [r for r in results if isinstance(r, tuple) and r[0]]
    assert len(created) == 1
    assert all(isinstance(r, tuple) and r[1] == created[0][1] for r in results)
    assert await _count(database) == 1
    assert await _count(database, "SELECT count(*) FROM payment_events") == 2
    await batcher.close()


async def test_different_body_under_a_key_in_the_same_batch_conflicts(database: Database) -> None:
    batcher = IntakeBatcher(database.pool, window_ms=60_000, max_items=3)
    results = await settle(
        batcher,
        [
            new_payment("k", order(1)),
            new_payment("k", order(1, amount="9.99")),
            new_payment("k", order(1)),
        ],
    )
    first, second, third = results
    assert isinstance(first, tuple) and first[0]
    assert isinstance(second, IdempotencyConflict)
    assert third == (False, first[1])
    assert await _count(database) == 1
    await batcher.close()


async def test_replays_and_conflicts_across_batches_match_insert_payment(
    database: Database,
) -> None:
    created, stored = await repo.insert_payment(database.pool, new_payment("old", order(1)), NOW)
    assert created
    batcher = IntakeBatcher(database.pool, window_ms=60_000, max_items=4)
    other = uuid.UUID("00000000-0000-4000-8000-000000000002")
    replay, conflict, fresh, other_client = await settle(
        batcher,
        [
            new_payment("old", dict(reversed(list(order(1).items())))),
            new_payment("old", order(1, amount="2.00")),
            new_payment("new", order(2)),
            new_payment("old", order(3), client=other),
        ],
    )
    assert replay == (False, stored)
    assert isinstance(conflict, IdempotencyConflict)
    assert isinstance(fresh, tuple) and fresh[0] and fresh[1]["id"] != stored["id"]
    assert isinstance(other_client, tuple) and other_client[0]
    assert await _count(database) == 3
    # The single-row path sees what the batch wrote, and the other way round.
    assert await repo.insert_payment(database.pool, new_payment("new", order(2)), NOW) == (
        False,
        fresh[1],
    )
    await batcher.close()


async def test_close_writes_what_is_waiting(database: Database) -> None:
    batcher = IntakeBatcher(database.pool, window_ms=60_000, max_items=1000)
    tasks = [
        asyncio.create_task(batcher.insert(new_payment(f"c-{n}", order(n)), NOW)) for n in range(5)
    ]
    await asyncio.sleep(0)  # let every caller park in the batch
    await batcher.close()
    results = await asyncio.gather(*tasks)
    assert all(created for created, _ in results)
    assert await _count(database) == 5


async def test_zero_window_still_coalesces_one_loop_turn(database: Database) -> None:
    batcher = IntakeBatcher(database.pool, window_ms=0)
    results = await settle(batcher, [new_payment(f"z-{n}", order(n)) for n in range(10)])
    assert all(isinstance(r, tuple) and r[0] for r in results)
    assert batcher.statements == 1
    assert await _count(database) == 10
    await batcher.close()


async def test_zero_window_batches_grow_while_the_writers_are_busy(
    database: Database, monkeypatch: Any
) -> None:
    """The default (window 0) is group commit: a request that finds a writer free is written
    at once; requests that arrive while both writers are busy go out together next."""
    release = asyncio.Event()
    sizes: list[int] = []
    real_insert = repo.insert_payments

    async def slow_insert(conn: Any, items: list[Any]) -> Any:
        sizes.append(len(items))
        await release.wait()
        return await real_insert(conn, items)

    monkeypatch.setattr(repo, "insert_payments", slow_insert)
    batcher = IntakeBatcher(database.pool, window_ms=0, writers=2)
    tasks = []
    for n in range(12):  # one request per loop turn, as if each came on its own connection
        tasks.append(asyncio.create_task(batcher.insert(new_payment(f"g-{n}", order(n)), NOW)))
        for _ in range(5):
            await asyncio.sleep(0)
    async with asyncio.timeout(10):
        while len(sizes) < 2:
            await asyncio.sleep(0.001)
    assert sizes == [1, 1]  # both writers took the first request each, without waiting
    release.set()
    results = await asyncio.gather(*tasks)
    assert all(created for created, _ in results)
    assert sizes == [1, 1, 10]  # the ten that queued behind them: one statement
    assert await _count(database) == 12
    await batcher.close()


async def test_http_concurrent_distinct_and_identical_requests(
    fresh_dsn: str, tmp_path: Path
) -> None:
    settings = settings_for(fresh_dsn, tmp_path, insert_coalesce_ms=5.0)
    async with running_gateway(settings, run_workers=False) as gw:

        async def post(key: str, n: int) -> tuple[int, str | None, dict[str, Any]]:
            async with gw.session.post(
                f"{gw.url}/v1/payments", json=order(n), headers=gw.headers(key)
            ) as r:
                return r.status, r.headers.get("Idempotent-Replayed"), await r.json()

        results = await asyncio.gather(
            *(post("dup", 1) for _ in range(25)), *(post(f"d-{n}", n) for n in range(25))
        )
        assert {status for status, _, _ in results} == {201}
        dup = results[:25]
        assert len({body["id"] for _, _, body in dup}) == 1
        assert sum(1 for _, replayed, _ in dup if replayed is None) == 1
        assert len({body["id"] for _, _, body in results[25:]}) == 25
        count = await gw.pool.fetchval("SELECT count(*) FROM payments")
        assert count == 26
