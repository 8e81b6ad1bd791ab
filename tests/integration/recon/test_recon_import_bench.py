"""The import-rate benchmark on a small statement: every entry parsed and stored, in both
formats, and the database left as it was."""

from __future__ import annotations

import asyncpg
import pytest

from paygate.bench.recon_bench import import_rates

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_import_rates_parse_and_store_every_line(fresh_dsn: str) -> None:
    figures = await import_rates(fresh_dsn, 250)
    for fmt in ("camt053", "mt940"):
        assert figures[f"{fmt}_lines"] == figures[f"{fmt}_stored_lines"] == 250
        assert isinstance(figures[f"{fmt}_parse_lines_per_s"], int)
        assert isinstance(figures[f"{fmt}_store_lines_per_s"], int)
    conn = await asyncpg.connect(fresh_dsn)
    try:
        assert await conn.fetchval("SELECT count(*) FROM recon_statement_lines") == 0
        assert await conn.fetchval("SELECT count(*) FROM recon_statements") == 0
    finally:
        await conn.close()
