"""Clients and their API keys. Keys are random, shown once, and stored as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass

import asyncpg

from paygate.store.ids import new_id

SCOPES = frozenset({"submit", "read", "operator"})


@dataclass(frozen=True)
class Principal:
    client_id: uuid.UUID
    client_name: str
    scopes: frozenset[str]


def hash_key(key: str) -> bytes:
    # Keys carry 256 bits of entropy, so a plain digest is enough; no slow KDF needed.
    return hashlib.sha256(key.encode()).digest()


async def ensure_client(conn: asyncpg.Connection, name: str) -> uuid.UUID:
    row = await conn.fetchrow(
        """INSERT INTO clients (id, name) VALUES ($1, $2)
           ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id""",
        new_id(),
        name,
    )
    assert row is not None
    return uuid.UUID(str(row["id"]))


async def create_key(conn: asyncpg.Connection, client_name: str, scopes: set[str]) -> str:
    unknown = scopes - SCOPES
    if unknown:
        raise ValueError(f"unknown scopes {sorted(unknown)}; known: {sorted(SCOPES)}")
    client_id = await ensure_client(conn, client_name)
    prefix = secrets.token_hex(4)
    key = f"pg_{prefix}_{secrets.token_urlsafe(32)}"
    await conn.execute(
        "INSERT INTO api_keys (id, client_id, key_hash, prefix, scopes) VALUES ($1,$2,$3,$4,$5)",
        new_id(),
        client_id,
        hash_key(key),
        prefix,
        sorted(scopes),
    )
    return key


async def principal_for_key(conn: asyncpg.Connection | asyncpg.Pool, key: str) -> Principal | None:
    row = await conn.fetchrow(
        """SELECT c.id, c.name, k.scopes FROM api_keys k JOIN clients c ON c.id = k.client_id
           WHERE k.key_hash = $1 AND k.revoked_at IS NULL""",
        hash_key(key),
    )
    if row is None:
        return None
    return Principal(uuid.UUID(str(row["id"])), row["name"], frozenset(row["scopes"]))
