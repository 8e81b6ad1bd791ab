"""What-if over ten thousand recorded route requests: the API and `paygate routing whatif
--since` replay what the gateway stored under a candidate version against the active one."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import io
import json
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

from paygate.cli.routing_cmd import register
from paygate.store.ids import new_id
from routing import RouteRequest, Snapshot, load_config_text, whatif
from tests.integration.gateway.harness import BUSINESS_MORNING, running_gateway, settings_for
from tests.integration.routing.routing_harness import DEMO_YAML, demo_config

COUNT = 10_000
NO_BATCH = """rules:
  - id: no-batch
    kind: exclusion
    channels: [batch]
"""


def candidate_yaml() -> str:
    text = DEMO_YAML.read_text(encoding="utf-8").replace("version: demo-1", "version: no-batch")
    return text.replace("\nrules:\n", "\n" + NO_BATCH)


def recorded(i: int) -> dict[str, Any]:
    currency = "CNY" if i % 5 == 0 else "EUR"
    request = RouteRequest(
        payment_id=f"p{i}",
        amount=Decimal(10 + (i * 7919) % 120_000) + Decimal("0.25"),
        currency=currency,
        debtor_country="DE" if currency == "EUR" else "CN",
        creditor_country="DE" if currency == "EUR" else ("CN" if i % 3 else "DE"),
        priority=("normal", "high", "urgent")[i % 3],
        product="payroll" if i % 11 == 0 else None,
        routed_at=BUSINESS_MORNING + dt.timedelta(seconds=i),
    )
    return request.model_dump(mode="json")


async def insert_recorded(pool: Any, docs: list[dict[str, Any]]) -> None:
    client = uuid.uuid4()
    rows = [
        (
            new_id(),
            client,
            f"k{i}",
            b"x",
            "settled",
            Decimal(doc["amount"]),
            doc["currency"],
            f"E2E{i}",
            uuid.uuid4(),
            doc["priority"],
            {},
            {},
            doc,
            BUSINESS_MORNING + dt.timedelta(seconds=i),
        )
        for i, doc in enumerate(docs)
    ]
    await pool.executemany(
        "INSERT INTO payments (id, client_id, idempotency_key, fingerprint, status, amount, "
        "currency, end_to_end_id, uetr, priority, order_doc, response_doc, route_request, "
        "created_at, updated_at) "
        "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$14)",
        rows,
    )


async def test_whatif_over_ten_thousand_recorded_requests(fresh_dsn: str, tmp_path: Path) -> None:
    docs = [recorded(i) for i in range(COUNT)]
    settings = settings_for(fresh_dsn, tmp_path)
    async with running_gateway(settings, run_workers=False, routing_config=demo_config()) as gw:
        await insert_recorded(gw.pool, docs)
        headers = {**gw.headers(), "Content-Type": "application/yaml"}
        async with gw.session.post(
            f"{gw.url}/v1/routing/config", data=candidate_yaml().encode(), headers=headers
        ) as r:
            assert r.status == 201, await r.text()
        body = {"candidate": "no-batch", "since": BUSINESS_MORNING.isoformat()}
        async with gw.session.post(
            f"{gw.url}/v1/routing/whatif", json=body, headers=gw.headers()
        ) as r:
            assert r.status == 200, await r.text()
            report = await r.json()

        # The same replay, done directly with the pure library.
        expected = whatif(
            [RouteRequest.model_validate(d) for d in docs],
            demo_config(),
            load_config_text(candidate_yaml()),
            Snapshot(),
        ).to_dict()
        assert (report["active_version"], report["candidate_version"]) == ("demo-1", "no-batch")
        assert report["total"] == COUNT
        assert report["changed"] == expected["changed"] > 0
        assert report["fee_delta"] == expected["fee_delta"]
        assert Decimal(report["fee_delta"]["EUR"]) > 0  # batch was the cheap rail
        assert "batch" in report["active"]["volume"]
        assert "batch" not in report["candidate"]["volume"]
        assert all(e["active"] == "batch" for e in report["examples"])

        # A later `since` replays fewer; a bad candidate is a 422, not a 500.
        later = {"candidate": "no-batch", "since": docs[-100]["routed_at"]}
        async with gw.session.post(
            f"{gw.url}/v1/routing/whatif", json=later, headers=gw.headers()
        ) as r:
            assert (await r.json())["total"] == 100
        async with gw.session.post(
            f"{gw.url}/v1/routing/whatif", json={"candidate": "nope"}, headers=gw.headers()
        ) as r:
            assert r.status == 422

        # The command line reads the same stored requests and the stored active version.
        candidate_file = tmp_path / "candidate.yaml"
        candidate_file.write_text(candidate_yaml(), encoding="utf-8")
        parser = argparse.ArgumentParser()
        register(parser.add_subparsers(dest="command"))
        args = parser.parse_args(
            ["routing", "whatif", "--config", str(candidate_file), "--since", docs[0]["routed_at"]]
        )
        args.settings = settings
        out = io.StringIO()
        code = await asyncio.to_thread(args.handler, args, out)
        text = out.getvalue()
        assert code == 0, text
        assert f"replayed {COUNT} requests: {expected['changed']} decisions change" in text
        assert json.loads(text.splitlines()[-1])["changed_examples"]
