"""Operator / test endpoints every rail has: ledger, profile, control, reset, clock, statements."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from aiohttp import web

from simulators.behaviour import ProfileError
from simulators.http_common import json_error, rail_of
from simulators.ledger import REJECTED
from simulators.statements.camt053 import render_camt053
from simulators.statements.csv_report import render_csv
from simulators.statements.model import build_statement
from simulators.statements.mt94x import render_mt94x
from simulators.statements.planting import PlantSpecError, parse_plant_spec, plant

FORMATS = ("camt053", "mt940", "mt950", "csv")


async def _json_body(request: web.Request) -> dict[str, Any] | web.Response:
    try:
        data = json.loads(await request.read() or b"{}")
    except ValueError:
        return json_error(400, "body is not JSON")
    if not isinstance(data, dict):
        return json_error(400, "body must be a JSON object")
    return data


async def get_ledger(request: web.Request) -> web.Response:
    rail = rail_of(request)
    rail.advance()
    return web.json_response([e.to_json() for e in rail.ledger])


async def get_profile(request: web.Request) -> web.Response:
    return web.json_response(rail_of(request).profile())


async def post_control(request: web.Request) -> web.Response:
    rail = rail_of(request)
    data = await _json_body(request)
    if isinstance(data, web.Response):
        return data
    try:
        rail.set_behaviour(rail.behaviour.patched(data))
    except ProfileError as exc:
        return json_error(400, str(exc))
    return web.json_response(rail.behaviour.to_json())


async def post_reset(request: web.Request) -> web.Response:
    rail = rail_of(request)
    rail.reset()
    return web.json_response({"reset": rail.id})


async def get_clock(request: web.Request) -> web.Response:
    return web.json_response(rail_of(request).clock.to_json())


async def post_clock(request: web.Request) -> web.Response:
    """{"now": ISO, "speed": x, "advance_seconds": s}; the clock is shared by all rails."""
    rail = rail_of(request)
    data = await _json_body(request)
    if isinstance(data, web.Response):
        return data
    try:
        now = datetime.fromisoformat(data["now"]) if data.get("now") else None
        speed = float(data["speed"]) if data.get("speed") is not None else None
        rail.clock.set(now, speed)
        if data.get("advance_seconds"):
            rail.clock.advance(float(data["advance_seconds"]))
    except (TypeError, ValueError) as exc:
        return json_error(400, f"bad clock request: {exc}")
    rail.advance()
    return web.json_response(rail.clock.to_json())


async def get_statement(request: web.Request) -> web.Response:
    rail = rail_of(request)
    rail.advance()
    q = request.query
    fmt = q.get("format", "camt053")
    if fmt not in FORMATS:
        return json_error(400, f"format must be one of {FORMATS}")
    try:
        day = (
            date.fromisoformat(q["date"])
            if "date" in q
            else rail.config.hours.local_date(rail.clock.now())
        )
        seed = int(q.get("seed", "0"))
        counts = parse_plant_spec(q.get("plant", ""))
    except (ValueError, PlantSpecError) as exc:
        return json_error(400, str(exc))
    currency = q.get("currency", rail.config.currencies[0])
    if currency not in rail.config.currencies:
        return json_error(400, f"currency {currency} is not carried by {rail.id}")
    stmt = build_statement(rail, day, currency)
    rejected = [
        e
        for e in rail.ledger
        if e.phase == REJECTED and rail.config.hours.local_date(e.booked_at) == day
    ]
    planted = plant(stmt, counts, seed, rejected, rail.config.tariff.fee) if counts else []
    rail.planted[stmt.id] = planted
    headers = {"X-Statement-Id": stmt.id}
    if fmt == "camt053":
        return web.Response(
            body=render_camt053(stmt), content_type="application/xml", headers=headers
        )
    if fmt == "csv":
        return web.Response(text=render_csv(stmt), content_type="text/csv", headers=headers)
    text = render_mt94x(stmt, kind=fmt[2:])
    return web.Response(text=text, content_type="text/plain", headers=headers)


async def get_planted(request: web.Request) -> web.Response:
    rail = rail_of(request)
    stmt_id = request.query.get("id", "")
    if stmt_id not in rail.planted:
        return json_error(404, "unknown statement id", id=stmt_id)
    return web.json_response(rail.planted[stmt_id])


def add_admin_routes(app: web.Application) -> None:
    app.router.add_get("/_ledger", get_ledger)
    app.router.add_get("/_profile", get_profile)
    app.router.add_post("/_control", post_control)
    app.router.add_post("/_reset", post_reset)
    app.router.add_get("/_clock", get_clock)
    app.router.add_post("/_clock", post_clock)
    app.router.add_get("/_statement", get_statement)
    app.router.add_get("/_statement/planted", get_planted)
