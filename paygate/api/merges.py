"""Merges (并笔) seen from outside: one merge, savings per day or rule, and the per-item
actions upstream and operators keep — cancel before the window closes, return after
settlement — plus the merge worker's lifetime."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

from aiohttp import web

from paygate.api.auth import authenticate
from paygate.api.keys import CLOCK, KEYS, POOL, ROUTING
from paygate.api.openapi import register
from paygate.api.payments import payment_resource, read_json
from paygate.engine.merge_worker import MergeWorker
from paygate.errors import FieldError, NotFound, ValidationFailed
from paygate.merging import MergeConfig
from paygate.store import merges as store
from paygate.store import payments as repo

routes = web.RouteTableDef()
MERGE_WORKER = web.AppKey("merge_worker", MergeWorker)

register(
    "POST",
    "/v1/payments/{id}/cancel",
    "Cancel a payment still waiting to be merged",
    scope="submit",
    status="200",
)
register(
    "POST",
    "/v1/payments/{id}/return",
    "Return a settled payment (refund recorded)",
    scope="operator",
    status="200",
)
register("GET", "/v1/merges/savings", "Fees saved by merging, per day or rule", scope="operator")
register("GET", "/v1/merges/{id}", "One merge: items, total, fees, saving", scope="operator")


def _uuid(request: web.Request, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(request.match_info["id"])
    except ValueError:
        raise NotFound(f"no {what} {request.match_info['id']}") from None


def _saved(charged: Decimal | None, if_single: Decimal | None) -> dict[str, str | None]:
    if charged is None or if_single is None:
        return {"saved": None, "saved_pct": None}
    saved = if_single - charged
    pct = (saved * 100 / if_single).quantize(Decimal("0.01")) if if_single else Decimal("0.00")
    return {"saved": str(saved), "saved_pct": str(pct)}


@routes.post("/v1/payments/{id}/cancel")
async def cancel_payment(request: web.Request) -> web.Response:
    principal = await authenticate(request, request.app[KEYS], "submit")
    payment_id = _uuid(request, "payment")
    pool = request.app[POOL]
    async with pool.acquire() as conn, conn.transaction():
        await store.cancel_pending(conn, payment_id, principal.client_id)
    row = await repo.get_payment(pool, payment_id, principal.client_id)
    return web.json_response(payment_resource(row))


@routes.post("/v1/payments/{id}/return")
async def return_payment(request: web.Request) -> web.Response:
    await authenticate(request, request.app[KEYS], "operator")
    payment_id = _uuid(request, "payment")
    reason = "returned by operator"
    if request.can_read_body:
        body: Any = await read_json(request)
        if isinstance(body, dict) and isinstance(body.get("reason"), str) and body["reason"]:
            reason = body["reason"][:200]
    pool = request.app[POOL]
    async with pool.acquire() as conn, conn.transaction():
        await store.return_settled(conn, payment_id, reason)
    row = await repo.get_payment(pool, payment_id, None)
    return web.json_response(payment_resource(row))


@routes.get("/v1/merges/savings")
async def merge_savings(request: web.Request) -> web.Response:
    await authenticate(request, request.app[KEYS], "operator")
    by = request.query.get("by", "day")
    if by not in ("day", "rule"):
        raise ValidationFailed("bad query parameters", [FieldError("/query/by", "day or rule")])
    rows = await store.savings(request.app[POOL], by)
    groups = []
    for r in rows:
        charged, if_single = r["fee_charged"], r["fee_if_single"]
        groups.append(
            {
                by: r["key"],
                "merges": r["merges"],
                "items": int(r["items"]),
                "fee_charged": str(charged),
                "fee_if_single": None if if_single is None else str(if_single),
                **_saved(charged, if_single),
            }
        )
    return web.json_response({"by": by, "groups": groups})


@routes.get("/v1/merges/{id}")
async def get_merge(request: web.Request) -> web.Response:
    await authenticate(request, request.app[KEYS], "operator")
    merge_id = _uuid(request, "merge")
    pool = request.app[POOL]
    merge = await store.get_merge(pool, merge_id)
    items = await store.merge_items(pool, merge_id)
    aggregate = await repo.get_payment(pool, merge.payment_id, None)
    return web.json_response(
        {
            "id": str(merge.id),
            "rule_id": merge.rule_id,
            "status": merge.status,
            "reason": merge.reason,
            "reference": merge.reference,
            "currency": merge.currency,
            "total": str(merge.total),
            "item_count": merge.item_count,
            "channel": merge.channel,
            "aggregate_payment": {"id": str(aggregate.id), "status": aggregate.status.value},
            "fee_charged": None if merge.fee_charged is None else str(merge.fee_charged),
            "fee_if_single": None if merge.fee_if_single is None else str(merge.fee_if_single),
            **_saved(merge.fee_charged, merge.fee_if_single),
            "closed_at": merge.closed_at.isoformat(),
            "items": [
                {
                    "payment_id": str(i["payment_id"]),
                    "amount": str(i["amount"]),
                    "status": i["status"],
                    "released": i["released"],
                }
                for i in items
            ],
        }
    )


def merge_context(
    config: MergeConfig | None, *, run: bool, interval_s: float
) -> Callable[[web.Application], AsyncIterator[None]]:
    """The merge worker's lifetime. Append it before the engine context, which hands the
    worker to the dispatcher as its intake and fan-out hooks."""

    async def lifetime(app: web.Application) -> AsyncIterator[None]:
        if config is None:
            yield
            return
        worker = MergeWorker(app[POOL], config, app[ROUTING], app[CLOCK], interval_s=interval_s)
        await worker.start()
        app[MERGE_WORKER] = worker
        task = asyncio.create_task(worker.run()) if run else None
        yield
        worker.stop()
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return lifetime
