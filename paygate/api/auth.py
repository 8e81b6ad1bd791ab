"""Bearer API keys with scopes. Lookups are cached briefly so that intake does not pay a
database round trip per request for authentication."""

from __future__ import annotations

import time

import asyncpg
from aiohttp import web

from paygate.errors import AuthError
from paygate.store.clients import Principal, principal_for_key


class KeyCache:
    def __init__(self, pool: asyncpg.Pool, ttl_s: float = 30.0) -> None:
        self._pool = pool
        self._ttl = ttl_s
        self._entries: dict[str, tuple[float, Principal | None]] = {}

    async def lookup(self, key: str) -> Principal | None:
        hit = self._entries.get(key)
        now = time.monotonic()
        if hit is not None and hit[0] > now:
            return hit[1]
        principal = await principal_for_key(self._pool, key)
        if len(self._entries) > 10_000:
            self._entries.clear()
        # Unknown keys are cached for a shorter time, so a freshly minted key works quickly.
        self._entries[key] = (now + (self._ttl if principal else 1.0), principal)
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
