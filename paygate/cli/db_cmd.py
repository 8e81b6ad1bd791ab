"""``paygate db migrate|status`` and ``paygate keys create``."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from paygate.config import Settings
from paygate.store.clients import SCOPES, create_key
from paygate.store.database import open_database
from paygate.store.migrate import applied, available, migrate


def register(sub: Any) -> None:
    db = sub.add_parser("db", help="database migrations", description="Database migrations.")
    dbsub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    m = dbsub.add_parser("migrate", help="apply pending migrations")
    m.set_defaults(handler=lambda a: asyncio.run(_migrate()))
    s = dbsub.add_parser("status", help="list migrations and whether each is applied")
    s.set_defaults(handler=lambda a: asyncio.run(_status()))

    keys = sub.add_parser("keys", help="API keys", description="Mint API keys for clients.")
    ksub = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    c = ksub.add_parser("create", help="mint a key (printed once; stored hashed)")
    c.add_argument("--client", required=True, help="client name (created if new)")
    c.add_argument(
        "--scopes",
        nargs="+",
        default=["submit", "read"],
        choices=sorted(SCOPES),
        help="scopes granted to the key",
    )
    c.set_defaults(handler=lambda a: asyncio.run(_create_key(a)))


async def _migrate() -> int:
    database = await open_database(Settings(), run_migrations=False)
    try:
        async with database.pool.acquire() as conn:
            done = await migrate(conn)
        for m in done:
            print(f"applied {m.number:04d}_{m.name}")
        if not done:
            print("nothing to apply")
    finally:
        await database.close()
    return 0


async def _status() -> int:
    database = await open_database(Settings(), run_migrations=False)
    try:
        async with database.pool.acquire() as conn:
            have = await applied(conn)
        for m in available():
            print(f"{m.number:04d}_{m.name}: {'applied' if m.number in have else 'pending'}")
    finally:
        await database.close()
    return 0


async def _create_key(args: argparse.Namespace) -> int:
    database = await open_database(Settings())
    try:
        async with database.pool.acquire() as conn:
            key = await create_key(conn, args.client, set(args.scopes))
    finally:
        await database.close()
    print(key)
    return 0
