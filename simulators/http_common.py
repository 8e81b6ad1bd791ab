"""What every rail's HTTP side shares: the rail key, outage middleware, acting out faults."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from simulators.behaviour import FAULT_5XX, FAULT_LOST, FAULT_TIMEOUT
from simulators.rail import Rail

RAIL_KEY = web.AppKey("rail", Rail)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def rail_of(request: web.Request) -> Rail:
    return request.app[RAIL_KEY]


def drop_connection(request: web.Request) -> web.StreamResponse:
    """Close the socket without answering: the client sees a disconnect, never a status."""
    transport = request.transport
    if transport is not None:
        transport.close()
    return web.Response(status=204)  # never reaches the wire


@web.middleware
async def outage_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    # Operator endpoints (/_ledger, /_control, ...) stay reachable so tests can end an outage.
    if request.path.startswith("/_"):
        return await handler(request)
    rail = rail_of(request)
    now = rail.clock.now()
    for outage in rail.behaviour.outages:
        if outage.covers(now):
            if outage.mode == "drop":
                return drop_connection(request)
            return web.json_response(
                {"error": "outage", "until": outage.end.isoformat()},
                status=503,
                # Declares that nothing was taken, so the sender may safely go elsewhere.
                headers={"Retry-After": "1", "X-Outage": "true"},
            )
    return await handler(request)


async def act_out(
    rail: Rail, fault: str, request: web.Request, response: web.StreamResponse
) -> web.StreamResponse:
    """Deliver `response`, or the configured fault instead (the booking already happened)."""
    if fault == FAULT_5XX:
        return web.json_response(
            {"error": "simulated internal error", "settled": rail.behaviour.settle_before_5xx},
            status=500,
        )
    if fault == FAULT_LOST:
        return drop_connection(request)
    if fault == FAULT_TIMEOUT:
        await asyncio.sleep(rail.behaviour.hold_ms / 1000.0)
    return response


def json_error(status: int, error: str, **extra: Any) -> web.Response:
    return web.json_response({"error": error, **extra}, status=status)


def xml_response(body: bytes, status: int = 200) -> web.Response:
    return web.Response(body=body, status=status, content_type="application/xml")
