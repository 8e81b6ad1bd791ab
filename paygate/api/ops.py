"""Operations endpoints: liveness, readiness, metrics, the OpenAPI document."""

from __future__ import annotations

from aiohttp import web

from paygate.api.keys import DATABASE, METRICS, POOL
from paygate.api.openapi import openapi_document
from paygate.store import payments as repo
from paygate.store.migrate import pending

routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    database = request.app[DATABASE]
    if not await database.ping():
        return web.json_response({"status": "unavailable", "database": "unreachable"}, status=503)
    async with request.app[POOL].acquire() as conn:
        todo = await pending(conn)
    if todo:
        names = [f"{m.number:04d}_{m.name}" for m in todo]
        return web.json_response({"status": "unavailable", "pending_migrations": names}, status=503)
    return web.json_response({"status": "ready", "database": "ok", "migrations": "applied"})


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    m = request.app[METRICS]
    m.payment_counts.update(await repo.count_by_status(request.app[POOL]))
    return web.Response(body=m.exposition(), content_type="text/plain", charset="utf-8")


@routes.get("/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    return web.json_response(openapi_document(request.app.router))
