"""Intake over real HTTP against a real PostgreSQL: durable, idempotent, strict."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from tests.integration.gateway.harness import order, running_gateway, settings_for


async def _count(gw: object) -> int:
    return int(await gw.pool.fetchval("SELECT count(*) FROM payments"))  # type: ignore[attr-defined]


async def test_create_read_and_replay(fresh_dsn: str, tmp_path: Path) -> None:
    async with running_gateway(settings_for(fresh_dsn, tmp_path), run_workers=False) as gw:
        body = order(1)
        async with gw.session.post(
            f"{gw.url}/v1/payments", json=body, headers=gw.headers("k-1")
        ) as r:
            assert r.status == 201
            first = await r.json()
        assert first["status"] == "validated"
        assert first["amount"] == {"value": "125.40", "currency": "EUR"}
        # Same key, same body (keys reordered): the stored response, no second row.
        reordered = dict(reversed(list(body.items())))
        async with gw.session.post(
            f"{gw.url}/v1/payments", json=reordered, headers=gw.headers("k-1")
        ) as r:
            assert r.status == 201
            assert r.headers["Idempotent-Replayed"] == "true"
            assert await r.json() == first
        # Same key, different body: 409 problem.
        async with gw.session.post(
            f"{gw.url}/v1/payments", json=order(1, amount="9.99"), headers=gw.headers("k-1")
        ) as r:
            assert r.status == 409
            assert r.content_type == "application/problem+json"
            assert (await r.json())["type"].endswith("/idempotency-conflict")
        assert await _count(gw) == 1
        async with gw.session.get(f"{gw.url}/v1/payments/{first['id']}", headers=gw.headers()) as r:
            assert r.status == 200
            assert (await r.json())["uetr"] == first["uetr"]
        async with gw.session.get(
            f"{gw.url}/v1/payments/{first['id']}/events", headers=gw.headers()
        ) as r:
            timeline = [e["to"] for e in (await r.json())["events"]]
        assert timeline == ["received", "validated"]


async def test_fifty_concurrent_identical_requests_make_one_payment(
    fresh_dsn: str, tmp_path: Path
) -> None:
    async with running_gateway(settings_for(fresh_dsn, tmp_path), run_workers=False) as gw:

        async def post() -> tuple[int, dict[str, object]]:
            async with gw.session.post(
                f"{gw.url}/v1/payments", json=order(7), headers=gw.headers("same-key")
            ) as r:
                return r.status, await r.json()

        results = await asyncio.gather(*(post() for _ in range(50)))
        assert {status for status, _ in results} == {201}
        assert len({body["id"] for _, body in results}) == 1
        assert await _count(gw) == 1


async def test_other_clients_payment_is_404(fresh_dsn: str, tmp_path: Path) -> None:
    from paygate.store.clients import create_key

    async with running_gateway(settings_for(fresh_dsn, tmp_path), run_workers=False) as gw:
        async with gw.session.post(
            f"{gw.url}/v1/payments", json=order(2), headers=gw.headers("k-2")
        ) as r:
            pid = (await r.json())["id"]
        async with gw.pool.acquire() as conn:
            other = await create_key(conn, "globex", {"read"})
        async with gw.session.get(
            f"{gw.url}/v1/payments/{pid}", headers=gw.headers(key=other)
        ) as r:
            assert r.status == 404
        async with gw.session.get(f"{gw.url}/v1/payments", headers=gw.headers(key=other)) as r:
            assert (await r.json())["items"] == []


async def test_keyset_pagination(fresh_dsn: str, tmp_path: Path) -> None:
    async with running_gateway(settings_for(fresh_dsn, tmp_path), run_workers=False) as gw:
        for n in range(5):
            async with gw.session.post(
                f"{gw.url}/v1/payments", json=order(n), headers=gw.headers(f"p-{n}")
            ):
                pass
        seen: list[str] = []
        cursor = ""
        while True:
            url = f"{gw.url}/v1/payments?limit=2" + (f"&cursor={cursor}" if cursor else "")
            async with gw.session.get(url, headers=gw.headers()) as r:
                page = await r.json()
            seen += [p["id"] for p in page["items"]]
            if not page["next_cursor"]:
                break
            cursor = page["next_cursor"]
        assert len(seen) == 5 == len(set(seen))
        assert seen == sorted(seen)


BAD_INPUTS = [
    ("negative", {"amount": {"value": "-5", "currency": "EUR"}}, "/amount/value"),
    ("zero", {"amount": {"value": "0", "currency": "EUR"}}, "/amount/value"),
    ("too many decimals", {"amount": {"value": "1.234", "currency": "EUR"}}, "/amount/value"),
    ("yen decimals", {"amount": {"value": "10.5", "currency": "JPY"}}, "/amount/value"),
    ("unknown currency", {"amount": {"value": "10", "currency": "ABC"}}, "/amount/currency"),
    (
        "bad IBAN",
        {"creditor_account": {"iban": "DE02120300000000202052"}},
        "/creditor_account/iban",
    ),
    ("bad BIC", {"creditor_agent": {"bic": "DEUTXXFF"}}, "/creditor_agent/bic"),
    ("missing creditor", {"creditor": None}, "/creditor"),
]


async def test_bad_input_is_a_named_4xx_and_writes_nothing(fresh_dsn: str, tmp_path: Path) -> None:
    async with running_gateway(settings_for(fresh_dsn, tmp_path), run_workers=False) as gw:
        url = f"{gw.url}/v1/payments"
        for i, (label, patch, pointer) in enumerate(BAD_INPUTS):
            body = order(i)
            body.update(patch)
            body = {k: v for k, v in body.items() if v is not None}
            async with gw.session.post(url, json=body, headers=gw.headers(f"bad-{i}")) as r:
                assert r.status == 422, label
                assert r.content_type == "application/problem+json", label
                problem = await r.json()
                assert pointer in [e["pointer"] for e in problem["errors"]], (label, problem)
        raw_cases = [
            (b'{"amount": {"value": NaN, "currency": "EUR"}}', 422),
            (b'{"amount": {"value": 1e309, "currency": "EUR"}}', 422),
            (b'{"amount": ', 422),
        ]
        for i, (raw, status) in enumerate(raw_cases):
            async with gw.session.post(url, data=raw, headers=gw.headers(f"raw-{i}")) as r:
                assert r.status == status, raw
                assert r.content_type == "application/problem+json"
        async with gw.session.post(
            url, data=b"x" * (2 * 1024 * 1024), headers=gw.headers("big")
        ) as r:
            assert r.status == 413
            assert r.content_type == "application/problem+json"
        h = gw.headers("ct")
        h["Content-Type"] = "text/plain"
        async with gw.session.post(url, data=json.dumps(order(1)), headers=h) as r:
            assert r.status == 415
        h = gw.headers()  # no Idempotency-Key
        async with gw.session.post(url, json=order(1), headers=h) as r:
            assert r.status == 422
            assert (await r.json())["errors"][0]["pointer"] == "/headers/Idempotency-Key"
        async with gw.session.post(url, json=order(1), headers={"Idempotency-Key": "x"}) as r:
            assert r.status == 401
        async with gw.session.post(
            url, json=order(1), headers=gw.headers("y", key="pg_wrong_key")
        ) as r:
            assert r.status == 401
        assert await _count(gw) == 0


async def test_ops_endpoints(fresh_dsn: str, tmp_path: Path) -> None:
    async with running_gateway(settings_for(fresh_dsn, tmp_path), run_workers=False) as gw:
        async with gw.session.get(f"{gw.url}/readyz") as r:
            assert r.status == 200
        async with gw.session.get(f"{gw.url}/metrics") as r:
            assert "paygate_http_request_seconds" in await r.text()
        async with gw.session.get(f"{gw.url}/openapi.json") as r:
            doc = await r.json()
        served = {
            (route.method.lower(), route.resource.canonical)
            for route in gw.app.router.routes()
            if route.method != "HEAD" and route.resource is not None
        }
        documented = {(m, p) for p, ops in doc["paths"].items() for m in ops}
        assert served <= documented
        assert "PaymentOrder" in doc["components"]["schemas"]
