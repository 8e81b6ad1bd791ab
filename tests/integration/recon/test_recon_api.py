"""The operator's reconciliation API on a running gateway: run against a rail's statement,
read the breaks, resolve one — the payment follows and the decision is audited."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from paygate.store.clients import create_key
from simulators import RailsHandle
from tests.integration.gateway.harness import Gateway, running_gateway, settings_for
from tests.integration.recon.recon_world import AS_OF, S, record, statement, submit
from tests.integration.simulators.sim_messages import Tx

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def post_statement(gw: Gateway, data: bytes, query: str, ctype: str) -> tuple[int, Any]:
    headers = {**gw.headers(), "Content-Type": ctype}
    url = f"{gw.url}/v1/reconciliations?{query}"
    async with gw.session.post(url, data=data, headers=headers) as r:
        return r.status, await r.json(content_type=None)


async def test_resolve_correct_status_settles_the_payment_and_audits(
    rails: RailsHandle, fresh_dsn: str, tmp_path: Path
) -> None:
    base = rails.base_url("rtgs")
    lost = Tx("API-LOST", "250.00", e2e="E2E-API-LOST")  # the rail settled; we never heard
    fine = Tx("API-OK", "99.00", e2e="E2E-API-OK")
    await submit(base, [lost, fine], "MSG-API")
    _, data = await statement(base, "camt053")
    settings = settings_for(fresh_dsn, tmp_path)
    async with running_gateway(settings, run_workers=False) as gw:
        lost_id = await record(gw.pool, lost, S.UNKNOWN, n=1)
        await record(gw.pool, fine, S.SETTLED, n=2)

        status, problem = await post_statement(gw, data, "as_of=2024-01-22", "application/xml")
        assert status == 422 and problem["errors"][0]["pointer"] == "/query/channel"
        status, problem = await post_statement(gw, b"hello", "channel=rtgs", "text/plain")
        assert status == 422 and problem["errors"][0]["pointer"] == "/statement"
        status, run = await post_statement(
            gw, data, f"channel=rtgs&as_of={AS_OF.isoformat()}", "application/xml"
        )
        assert status == 201, run
        assert run["summary"]["matched"] == 1 and run["summary"]["breaks"] == 1
        assert Path(run["report_paths"]["html"]).is_file()

        async with gw.session.get(
            f"{gw.url}/v1/reconciliations/{run['id']}", headers=gw.headers()
        ) as r:
            assert r.status == 200
            (brk,) = (await r.json())["breaks"]
        assert (brk["kind"], brk["grade"], brk["proposed_action"]) == (
            "status_mismatch",
            "medium",
            "correct_status",
        )
        assert brk["record_ids"] == [str(lost_id)] and brk["status"] == "open"

        resolve_url = f"{gw.url}/v1/reconciliations/{run['id']}/breaks/{brk['id']}/resolve"
        bad = {"action": "shrug", "reason": ""}
        async with gw.session.post(resolve_url, json=bad, headers=gw.headers()) as r:
            assert r.status == 422
            pointers = [e["pointer"] for e in (await r.json())["errors"]]
        assert pointers == ["/action", "/reason"]
        async with gw.pool.acquire() as conn:
            reader = await create_key(conn, "auditor", {"read"})
        body = {"action": "correct_status", "reason": "rail statement shows it settled"}
        async with gw.session.post(resolve_url, json=body, headers=gw.headers(key=reader)) as r:
            assert r.status == 403

        async with gw.session.post(resolve_url, json=body, headers=gw.headers()) as r:
            assert r.status == 200, await r.text()
            done = await r.json()
        assert (done["status"], done["resolved_by"], done["action_taken"]) == (
            "resolved",
            "acme",
            "correct_status",
        )
        assert done["reason"] == body["reason"] and done["resolved_at"]
        async with gw.session.post(resolve_url, json=body, headers=gw.headers()) as r:
            assert r.status == 409  # decided once

        async with gw.pool.acquire() as conn:
            status_now = await conn.fetchval("SELECT status FROM payments WHERE id=$1", lost_id)
            last = await conn.fetchrow(
                "SELECT from_status, to_status, reason, data FROM payment_events"
                " WHERE payment_id = $1 ORDER BY id DESC LIMIT 1",
                lost_id,
            )
        assert status_now == "settled"
        assert (last["from_status"], last["to_status"]) == ("unknown", "settled")
        assert "acme" in last["reason"] and last["data"]["break"] == brk["id"]
