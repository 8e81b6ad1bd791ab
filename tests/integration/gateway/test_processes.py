"""Real gateway processes: SIGKILL mid-load then restart, and two processes on one database.
Checked against the rails' own ledgers: nothing lost, nothing paid twice."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import yaml
from prometheus_client.parser import text_string_to_metric_families

from paygate.channels.registry import simulated_channel
from paygate.store.clients import create_key
from paygate.store.migrate import migrate
from simulators import RailsHandle
from tests.integration.gateway.harness import BUSINESS_MORNING, order

TERMINAL = ("settled", "rejected", "failed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(dsn: str, tmp: Path, rails: RailsHandle, port: int) -> dict[str, str]:
    channels = tmp / "channels.yaml"
    channels.write_text(
        yaml.safe_dump(
            {
                "channels": {
                    rid: simulated_channel(rid, rails.base_url(rid)) for rid in rails.rail_ids
                }
            }
        )
    )
    env = dict(os.environ)
    env.update(
        PAYGATE_DATABASE_URL=dsn,
        PAYGATE_CHANNELS_FILE=str(channels),
        PAYGATE_PORT=str(port),
        PAYGATE_DATA_DIR=str(tmp),
        PAYGATE_CLOCK_START=BUSINESS_MORNING.isoformat(),
        PAYGATE_LOG_LEVEL="warning",
        PAYGATE_CHANNEL_TIMEOUT_S="1.0",
        PAYGATE_INQUIRY_BACKOFF_S="0.05",
    )
    return env


def _serve(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "paygate.cli", "serve", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _ready(url: str) -> None:
    async with aiohttp.ClientSession() as s:
        for _ in range(300):
            try:
                async with s.get(f"{url}/readyz") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError(f"gateway at {url} never became ready")


async def _key(dsn: str) -> str:
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn)
        return await create_key(conn, "loader", {"submit", "read"})
    finally:
        await conn.close()


async def _post_many(urls: list[str], key: str, n: int, prefix: str) -> dict[str, str]:
    """Post n orders round-robin over urls; returns idempotency key -> payment id for every
    201 (a connection error leaves the order unacknowledged, so it is retried once)."""
    acked: dict[str, str] = {}
    sem = asyncio.Semaphore(16)

    async def one(i: int, s: aiohttp.ClientSession) -> None:
        idem = f"{prefix}-{i}"
        body = order(i, amount=f"{100 + i % 900}.00", priority="urgent")
        async with sem:
            for attempt in range(40):
                url = urls[(i + attempt) % len(urls)]
                try:
                    async with s.post(
                        f"{url}/v1/payments",
                        json=body,
                        headers={"Authorization": f"Bearer {key}", "Idempotency-Key": idem},
                    ) as r:
                        if r.status == 201:
                            acked[idem] = (await r.json())["id"]
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)

    async with aiohttp.ClientSession() as s:
        await asyncio.gather(*(one(i, s) for i in range(n)))
    return acked


async def _wait_all_terminal(dsn: str, ids: list[str], timeout_s: float = 60) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        for _ in range(int(timeout_s * 10)):
            done = await conn.fetchval(
                "SELECT count(*) FROM payments WHERE id = ANY($1::uuid[]) AND status = ANY($2)",
                ids,
                list(TERMINAL),
            )
            if done == len(ids):
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"only {done} of {len(ids)} payments terminal")
    finally:
        await conn.close()


async def _settled_uetrs(rails: RailsHandle) -> Counter[str]:
    seen: Counter[str] = Counter()
    async with aiohttp.ClientSession() as s:
        for rid in rails.rail_ids:
            async with s.get(f"{rails.base_url(rid)}/_ledger") as r:
                data: Any = await r.json()
            entries = data["entries"] if isinstance(data, dict) else data
            for e in entries:
                if e["status"] == "settled":
                    seen[e["uetr"]] += 1
    return seen


async def _check_exactly_once(dsn: str, rails: RailsHandle, ids: list[str]) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT uetr::text, status FROM payments WHERE id = ANY($1::uuid[])", ids
        )
    finally:
        await conn.close()
    assert len(rows) == len(ids)  # 0 lost: every acknowledged order is in the database
    settled = await _settled_uetrs(rails)
    assert all(n == 1 for n in settled.values()), "a payment was settled twice"
    for row in rows:
        expected = 1 if row["status"] == "settled" else 0
        assert settled.get(row["uetr"], 0) == expected, dict(row)


async def test_sigkill_mid_load_then_restart(
    fresh_dsn: str, tmp_path: Path, rails: RailsHandle
) -> None:
    port = _free_port()
    env = _env(fresh_dsn, tmp_path, rails, port)
    key = await _key(fresh_dsn)
    url = f"http://127.0.0.1:{port}"
    proc = _serve(env)
    await _ready(url)
    loader = asyncio.create_task(_post_many([url], key, 600, "kill"))
    await asyncio.sleep(1.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    await asyncio.sleep(0.3)
    proc = _serve(env)
    try:
        await _ready(url)
        acked = await loader
        assert len(acked) == 600
        ids = list(acked.values())
        await _wait_all_terminal(fresh_dsn, ids)
        await _check_exactly_once(fresh_dsn, rails, ids)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def test_two_processes_share_one_database(
    fresh_dsn: str, tmp_path: Path, rails: RailsHandle
) -> None:
    key = await _key(fresh_dsn)
    procs, urls = [], []
    for _ in range(2):
        port = _free_port()
        procs.append(_serve(_env(fresh_dsn, tmp_path, rails, port)))
        urls.append(f"http://127.0.0.1:{port}")
    try:
        for url in urls:
            await _ready(url)
        acked = await _post_many(urls, key, 2000, "two")
        assert len(acked) == 2000
        ids = list(acked.values())
        await _wait_all_terminal(fresh_dsn, ids, timeout_s=120)
        conn = await asyncpg.connect(fresh_dsn)
        try:
            per_payment = await conn.fetch(
                "SELECT payment_id, count(*) AS n FROM submissions GROUP BY 1 HAVING count(*) > 1"
            )
        finally:
            await conn.close()
        assert per_payment == []  # each payment submitted exactly once
        await _check_exactly_once(fresh_dsn, rails, ids)
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=10)


async def test_metrics_of_processes_sharing_a_port_add_up(
    fresh_dsn: str, tmp_path: Path, rails: RailsHandle
) -> None:
    """A scrape reaches one process of ``serve --processes 2`` at random; it must report the
    requests of both."""
    port = _free_port()
    env = dict(_env(fresh_dsn, tmp_path, rails, port), PAYGATE_DISPATCH_WORKERS="0")
    key = await _key(fresh_dsn)
    url = f"http://127.0.0.1:{port}"
    proc = _serve(env, "--processes", "2")
    try:
        await _ready(url)
        acked = await _post_many([url], key, 300, "metrics")  # 16 connections: both serve
        assert len(acked) == 300
        metrics_dirs = list((tmp_path / "metrics").glob("serve-*"))
        assert [d.name for d in metrics_dirs] == [f"serve-{proc.pid}"]
        for _ in range(8):  # a new connection each time, so both processes get scraped
            async with (
                aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as s,
                s.get(f"{url}/metrics") as r,
            ):
                text = await r.text()
            samples = {
                (sample.name, tuple(sorted(sample.labels.items()))): sample.value
                for family in text_string_to_metric_families(text)
                for sample in family.samples
            }
            posted = (
                "paygate_http_request_seconds_count",
                (("method", "POST"), ("route", "/v1/payments"), ("status", "201")),
            )
            assert samples[posted] == 300
            validated = ("paygate_payments", (("channel", ""), ("status", "validated")))
            assert samples[validated] == 300
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert list((tmp_path / "metrics").glob("serve-*")) == []  # the parent cleaned up
