"""The embedded server runs with the settings paygate gives it, on a new cluster and on a
reused one, including one a user edited by hand."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import asyncpg

from paygate.store.embedded import SERVER_SETTINGS, EmbeddedPostgres


async def _settings(dsn: str) -> dict[str, str]:
    conn = await asyncpg.connect(dsn)
    try:
        return {name: await conn.fetchval(f"SHOW {name}") for name in SERVER_SETTINGS}
    finally:
        await conn.close()


async def test_new_and_reused_clusters_run_with_paygate_settings() -> None:
    root = Path(tempfile.mkdtemp(prefix="paygate-emb-"))
    server = EmbeddedPostgres(root)
    try:
        assert await _settings(server.start()) == SERVER_SETTINGS
        server.stop()
        # A stale settings file (an older paygate's, or edited by hand) is replaced at start.
        (root / "pgdata" / "paygate.conf").write_text("wal_init_zero = 'on'\n")
        assert await _settings(server.start()) == SERVER_SETTINGS
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
