"""``paygate recon run`` and ``paygate recon report`` as an operator runs them: a real
process against a real database and a statement file from the simulated rail."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from simulators import RailsHandle
from tests.integration.recon.recon_world import ALL_KINDS, book_day, statement

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def paygate(env: dict[str, str], *args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "paygate.cli",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode()


async def test_cli_run_then_report(
    rails: RailsHandle, pool: Any, fresh_dsn: str, tmp_path: Path
) -> None:
    base = rails.base_url("rtgs")
    await book_day(pool, base, "CLI", count=8)
    _, data = await statement(base, "mt940", plant=ALL_KINDS, seed="9")
    file = tmp_path / "rtgs.mt940"
    file.write_bytes(data)
    env = {
        **os.environ,
        "PAYGATE_DATABASE_URL": fresh_dsn,
        "PAYGATE_DATA_DIR": str(tmp_path / "data"),
        "COLUMNS": "200",
    }
    code, out = await paygate(
        env, "recon", "run", "--channel", "rtgs", "--statement", str(file), "--as-of", "2024-01-22"
    )
    assert code == 0, out
    assert "fee_deducted" in out and "status_mismatch" in out
    run_id = re.search(r"^run id: ([0-9a-f-]{36})$", out, re.M)
    assert run_id is not None, out

    code, path = await paygate(env, "recon", "report", run_id.group(1), "--format", "html")
    assert code == 0 and path.strip().endswith(".html") and Path(path.strip()).is_file()
    code, content = await paygate(
        env, "recon", "report", run_id.group(1), "--format", "json", "--content"
    )
    assert code == 0
    assert len(json.loads(content)["breaks"]) == 7

    code, out = await paygate(env, "recon", "run", "--channel", "rtgs", "--statement", "/nope")
    assert code == 2 and "cannot read" in out
