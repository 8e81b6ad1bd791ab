"""API key lookups against a real PostgreSQL: cached, and one lookup per key at a time."""

from __future__ import annotations

import asyncio

import asyncpg

from paygate.api.auth import KeyCache
from paygate.store.clients import Principal, create_key, principal_for_key
from paygate.store.database import Database


class CountingLookup:
    """The real lookup, counted; ``fail`` makes the next call raise as a dropped pool would."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.calls = 0
        self.fail = False

    async def __call__(self, key: str) -> Principal | None:
        self.calls += 1
        await asyncio.sleep(0)  # let the other callers arrive while this one is out
        if self.fail:
            self.fail = False
            raise ConnectionResetError("the database went away")
        return await principal_for_key(self.pool, key)


async def _key(db: Database) -> str:
    async with db.pool.acquire() as conn:
        return await create_key(conn, "acme", {"submit", "read"})


async def test_concurrent_misses_share_one_lookup(database: Database) -> None:
    key = await _key(database)
    lookup = CountingLookup(database.pool)
    cache = KeyCache(database.pool, ttl_s=0.0, fetch=lookup)  # every entry already expired
    found = await asyncio.gather(*(cache.lookup(key) for _ in range(50)))
    assert lookup.calls == 1
    assert {p.client_name for p in found if p is not None} == {"acme"}
    assert all(p is not None and "submit" in p.scopes for p in found)
    # Expired, so the next caller looks up again rather than trusting a stale entry.
    await cache.lookup(key)
    assert lookup.calls == 2


async def test_a_cached_key_costs_no_lookup_and_an_unknown_one_is_none(database: Database) -> None:
    key = await _key(database)
    lookup = CountingLookup(database.pool)
    cache = KeyCache(database.pool, ttl_s=30.0, fetch=lookup)
    assert await cache.lookup(key) is not None
    for _ in range(20):
        assert await cache.lookup(key) is not None
    assert lookup.calls == 1
    assert await cache.lookup("pg_nope_" + "x" * 40) is None


async def test_a_failed_lookup_reaches_every_waiter_and_the_next_one_retries(
    database: Database,
) -> None:
    key = await _key(database)
    lookup = CountingLookup(database.pool)
    lookup.fail = True
    cache = KeyCache(database.pool, fetch=lookup)
    outcomes = await asyncio.gather(*(cache.lookup(key) for _ in range(10)), return_exceptions=True)
    assert lookup.calls == 1
    assert all(isinstance(o, ConnectionResetError) for o in outcomes)
    principal = await cache.lookup(key)
    assert principal is not None and principal.client_name == "acme"
    assert lookup.calls == 2


async def test_a_caller_that_goes_away_does_not_cancel_the_others(database: Database) -> None:
    key = await _key(database)
    lookup = CountingLookup(database.pool)
    cache = KeyCache(database.pool, fetch=lookup)
    first = asyncio.ensure_future(cache.lookup(key))
    second = asyncio.ensure_future(cache.lookup(key))
    await asyncio.sleep(0)
    first.cancel()
    principal = await second
    assert principal is not None and principal.client_name == "acme"
    assert lookup.calls == 1
