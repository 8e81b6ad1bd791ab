"""Routing config versions over the API: upload (validated, file:line issues), list, diff,
activate (audited), and a version activated while traffic flows — no restart, no lost payment."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from paygate.api.keys import ROUTING
from paygate.channels.registry import endpoints_for_urls
from paygate.store import routing_configs
from paygate.store.clients import create_key
from simulators import RailsHandle, SimClock, start_rails
from tests.integration.gateway.harness import (
    BUSINESS_MORNING,
    Gateway,
    order,
    running_gateway,
    settings_for,
)
from tests.integration.routing.routing_harness import (
    DEMO_YAML,
    demo_config,
    events,
    eventually,
    submit,
    until_terminal,
)

NO_INSTANT_RULE = """rules:
  - id: no-instant
    kind: exclusion
    description: instant is off for maintenance
    channels: [instant]
"""


def variant(version: str, rules_prefix: str = "") -> str:
    """The demo YAML under another version, with rules inserted before the demo's rules."""
    text = DEMO_YAML.read_text(encoding="utf-8").replace("version: demo-1", f"version: {version}")
    if rules_prefix:
        assert text.count("\nrules:\n") == 1
        text = text.replace("\nrules:\n", "\n" + rules_prefix)
    return text


async def upload(gw: Gateway, text: str, key: str | None = None) -> tuple[int, dict[str, Any]]:
    headers = {**gw.headers(key=key), "Content-Type": "application/yaml"}
    async with gw.session.post(
        f"{gw.url}/v1/routing/config", data=text.encode(), headers=headers
    ) as r:
        return r.status, await r.json(content_type=None)


async def activate(gw: Gateway, version: str) -> dict[str, Any]:
    async with gw.session.post(
        f"{gw.url}/v1/routing/config/{version}/activate", headers=gw.headers()
    ) as r:
        assert r.status == 200, await r.text()
        body: dict[str, Any] = await r.json()
        return body


async def get_json(gw: Gateway, path: str) -> dict[str, Any]:
    async with gw.session.get(f"{gw.url}{path}", headers=gw.headers()) as r:
        assert r.status == 200, await r.text()
        body: dict[str, Any] = await r.json()
        return body


async def test_upload_list_diff_activate_and_audit(fresh_dsn: str, tmp_path: Path) -> None:
    settings = settings_for(fresh_dsn, tmp_path)
    async with running_gateway(settings, run_workers=False, routing_config=demo_config()) as gw:
        # First start: the file config became the first, active version.
        current = await get_json(gw, "/v1/routing/config")
        assert (current["version"], current["active"], current["in_use"]) == (
            "demo-1",
            True,
            "demo-1",
        )
        assert "channels:" in current["yaml"]

        bad = variant("demo-bad").replace("channel: batch\n", "channel: nowhere\n", 1)
        status, problem = await upload(gw, bad)
        assert status == 422
        assert problem["type"].endswith("/routing-config-invalid")
        lines = [i["line"] for i in problem["issues"]]
        assert lines and all(isinstance(n, int) for n in lines)
        assert any("nowhere" in i["message"] for i in problem["issues"])
        assert any(i["text"].startswith(f"upload.yaml:{lines[0]}:") for i in problem["issues"])

        async with gw.pool.acquire() as conn:
            viewer = await create_key(conn, "viewer", {"read"})
        status, _ = await upload(gw, variant("demo-2", NO_INSTANT_RULE), key=viewer)
        assert status == 403

        status, stored = await upload(gw, variant("demo-2", NO_INSTANT_RULE))
        assert status == 201, stored
        assert (stored["version"], stored["active"], stored["author"]) == ("demo-2", False, "acme")
        status, _ = await upload(gw, variant("demo-2", NO_INSTANT_RULE))
        assert status == 409

        listed = await get_json(gw, "/v1/routing/config/versions")
        assert [(v["version"], v["active"]) for v in listed["versions"]] == [
            ("demo-1", True),
            ("demo-2", False),
        ]
        async with gw.session.get(
            f"{gw.url}/v1/routing/config/diff?from=demo-1&to=demo-2", headers=gw.headers()
        ) as r:
            assert r.status == 200
            diff = await r.text()
        assert "-version: demo-1" in diff and "+version: demo-2" in diff
        assert "+  - id: no-instant" in diff
        async with gw.session.get(
            f"{gw.url}/v1/routing/config/diff?from=demo-1&to=nope", headers=gw.headers()
        ) as r:
            assert r.status == 404

        switched = await activate(gw, "demo-2")
        assert switched == {"version": "demo-2", "previous": "demo-1", "active": True}
        assert gw.app[ROUTING].version == "demo-2"
        trail = await routing_configs.audit_trail(gw.pool)
        assert [(a["action"], a["version"], a["actor"]) for a in reversed(trail)] == [
            ("bootstrap", "demo-1", "gateway"),
            ("upload", "demo-2", "acme"),
            ("activate", "demo-2", "acme"),
        ]

        # Another process activating a version: this one's watcher follows without a restart.
        async with gw.pool.acquire() as conn:
            await routing_configs.store_version(conn, "demo-3", variant("demo-3"), "ops")
            await routing_configs.activate(conn, "demo-3", "ops")

        async def followed() -> bool:
            return gw.app[ROUTING].version == "demo-3"

        await eventually(followed, what="the watcher to switch to demo-3")

        async with gw.session.get(f"{gw.url}/openapi.json") as r:
            paths = (await r.json())["paths"]
        assert "/v1/routing/config/{version}/activate" in paths
        assert paths["/v1/routing/quote"]["post"]["security"] == [{"bearer": ["read"]}]


@pytest.fixture
async def rails() -> AsyncIterator[RailsHandle]:
    handle = await start_rails(clock=SimClock(BUSINESS_MORNING, 1.0))
    yield handle
    await handle.stop()


async def test_activation_while_traffic_flows_loses_nothing(
    fresh_dsn: str, tmp_path: Path, rails: RailsHandle
) -> None:
    endpoints = endpoints_for_urls({r: rails.base_url(r) for r in rails.rail_ids})
    settings = settings_for(fresh_dsn, tmp_path)
    async with running_gateway(settings, endpoints=endpoints, routing_config=demo_config()) as gw:
        status, _ = await upload(gw, variant("demo-2", NO_INSTANT_RULE))
        assert status == 201
        before = [await submit(gw, order(n, priority="urgent"), f"t-{n}") for n in range(15)]
        flowing = asyncio.gather(
            *(submit(gw, order(n, priority="urgent"), f"t-{n}") for n in range(15, 30))
        )
        await activate(gw, "demo-2")
        during = await flowing
        after = [await submit(gw, order(n, priority="urgent"), f"t-{n}") for n in range(30, 45)]

        finished = [await until_terminal(gw, pid) for pid in [*before, *during, *after]]
        assert [p["status"] for p in finished] == ["settled"] * 45  # nothing lost
        count = await gw.pool.fetchval("SELECT count(*) FROM payments")
        assert count == 45

        for p in finished:
            routed = [e for e in await events(gw, p["id"]) if e["to"] == "routed"]
            version = routed[-1]["data"]["config_version"]
            assert version in ("demo-1", "demo-2")
            if version == "demo-2":
                assert p["channel"] == "rtgs"  # the new rules hold
        for pid in after:
            routed = [e for e in await events(gw, pid) if e["to"] == "routed"]
            assert routed[-1]["data"]["config_version"] == "demo-2"
        assert gw.app[ROUTING].version == "demo-2"
