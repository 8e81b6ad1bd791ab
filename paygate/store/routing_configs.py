"""Routing configuration versions (one active at a time) and the audit trail of changes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import asyncpg

from paygate.errors import NotFound, StateError
from paygate.store.payments import Conn


@dataclass(frozen=True)
class ConfigVersion:
    version: str
    yaml: str
    author: str
    created_at: dt.datetime
    activated_at: dt.datetime | None
    active: bool

    @classmethod
    def from_record(cls, r: asyncpg.Record) -> ConfigVersion:
        return cls(
            version=r["version"],
            yaml=r["yaml"],
            author=r["author"],
            created_at=r["created_at"],
            activated_at=r["activated_at"],
            active=r["active"],
        )

    def summary(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "author": self.author,
            "created_at": self.created_at.isoformat(),
            "activated_at": self.activated_at.isoformat() if self.activated_at else None,
            "active": self.active,
        }


async def audit(
    conn: Conn, actor: str, action: str, version: str | None, detail: dict[str, Any] | None = None
) -> None:
    await conn.execute(
        "INSERT INTO routing_audit (actor, action, version, detail) VALUES ($1, $2, $3, $4)",
        actor,
        action,
        version,
        detail,
    )


async def store_version(conn: asyncpg.Connection, version: str, yaml: str, author: str) -> None:
    """Store an (already validated) version, inactive. A version id is never reused."""
    async with conn.transaction():
        inserted = await conn.fetchval(
            "INSERT INTO routing_configs (version, yaml, author) VALUES ($1, $2, $3) "
            "ON CONFLICT (version) DO NOTHING RETURNING version",
            version,
            yaml,
            author,
        )
        if inserted is None:
            raise StateError(f"routing config version {version!r} already exists")
        await audit(conn, author, "upload", version)


async def get_version(conn: Conn, version: str) -> ConfigVersion:
    row = await conn.fetchrow("SELECT * FROM routing_configs WHERE version = $1", version)
    if row is None:
        raise NotFound(f"no routing config version {version!r}")
    return ConfigVersion.from_record(row)


async def list_versions(conn: Conn) -> list[ConfigVersion]:
    rows = await conn.fetch("SELECT * FROM routing_configs ORDER BY created_at, version")
    return [ConfigVersion.from_record(r) for r in rows]


async def active_version(conn: Conn) -> ConfigVersion | None:
    row = await conn.fetchrow("SELECT * FROM routing_configs WHERE active")
    return None if row is None else ConfigVersion.from_record(row)


async def active_version_id(conn: Conn) -> str | None:
    value: str | None = await conn.fetchval("SELECT version FROM routing_configs WHERE active")
    return value


async def activate(conn: asyncpg.Connection, version: str, actor: str) -> str | None:
    """Make ``version`` the active one, atomically; returns the previously active version."""
    async with conn.transaction():
        # Serialize activations so the partial unique index never sees two at once.
        await conn.execute("LOCK TABLE routing_configs IN SHARE ROW EXCLUSIVE MODE")
        exists = await conn.fetchval("SELECT true FROM routing_configs WHERE version = $1", version)
        if not exists:
            raise NotFound(f"no routing config version {version!r}")
        previous: str | None = await conn.fetchval(
            "UPDATE routing_configs SET active = false WHERE active RETURNING version"
        )
        await conn.execute(
            "UPDATE routing_configs SET active = true, activated_at = now() WHERE version = $1",
            version,
        )
        await audit(conn, actor, "activate", version, {"previous": previous})
    return previous


async def bootstrap(conn: asyncpg.Connection, version: str, yaml: str, author: str) -> bool:
    """On first start (no version stored at all) store ``yaml`` and activate it."""
    async with conn.transaction():
        await conn.execute("LOCK TABLE routing_configs IN SHARE ROW EXCLUSIVE MODE")
        if await conn.fetchval("SELECT count(*) FROM routing_configs"):
            return False
        await conn.execute(
            "INSERT INTO routing_configs (version, yaml, author, active, activated_at) "
            "VALUES ($1, $2, $3, true, now())",
            version,
            yaml,
            author,
        )
        await audit(conn, author, "bootstrap", version)
    return True


async def audit_trail(conn: Conn, limit: int = 100) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT at, actor, action, version, detail FROM routing_audit ORDER BY id DESC LIMIT $1",
        limit,
    )
    return [
        {
            "at": r["at"].isoformat(),
            "actor": r["actor"],
            "action": r["action"],
            "version": r["version"],
            "detail": r["detail"],
        }
        for r in rows
    ]


async def recorded_requests(conn: Conn, since: dt.datetime, limit: int) -> list[dict[str, Any]]:
    """The RouteRequests the gateway routed payments created since ``since`` (oldest first)."""
    rows = await conn.fetch(
        "SELECT route_request FROM payments WHERE route_request IS NOT NULL "
        "AND created_at >= $1 ORDER BY created_at, id LIMIT $2",
        since,
        limit,
    )
    return [r["route_request"] for r in rows]
