"""Bearer API keys with scopes. Lookups are cached briefly so that intake does not pay a
database round trip per request for authentication."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import asyncpg
from aiohttp import web

from paygate.errors import AuthError
from paygate.store.clients import Principal, principal_for_key

Fetch = Callable[[str], Awaitable[Principal | None]]


class KeyCache:
    """A key's principal for ``ttl_s`` (unknown keys for 1 s, so a freshly minted key works
    quickly). One database lookup per key at a time: when an entry expires under load, every
    request then in flight would otherwise miss at once and queue a lookup each on the pool
    the intake writers share."""

    def __init__(self, pool: asyncpg.Pool, ttl_s: float = 30.0, fetch: Fetch | None = None) -> None:
        self._fetch: Fetch = fetch or (lambda key: principal_for_key(pool, key))
        self._ttl = ttl_s
        self._entries: dict[str, tuple[float, Principal | None]] = {}
        self._inflight: dict[str, asyncio.Task[Principal | None]] = {}

    async def lookup(self, key: str) -> Principal | None:
        hit = self._entries.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.ensure_future(self._load(key))
            self._inflight[key] = task
            task.add_done_callback(lambda _: self._inflight.pop(key, None))
        # shield: one caller going away must not cancel the lookup the others wait on
        return await asyncio.shield(task)

    async def _load(self, key: str) -> Principal | None:
        principal = await self._fetch(key)
        if len(self._entries) > 10_000:
            self._entries.clear()
        expires = time.monotonic() + (self._ttl if principal else 1.0)
        self._entries[key] = (expires, principal)
        return principal


async def authenticate(request: web.Request, cache: KeyCache, scope: str) -> Principal:
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise AuthError("send 'Authorization: Bearer <api key>'", 401)
    principal = await cache.lookup(key.strip())
    if principal is None:
        raise AuthError("the API key is not valid", 401)
    if scope not in principal.scopes:
        raise AuthError(f"this API key lacks the '{scope}' scope", 403)
    return principal
