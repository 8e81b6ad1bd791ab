"""Reconciliation for operators: run against a statement, read a run and its breaks,
resolve a break (recorded with who, what, why and when)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from aiohttp import web

from paygate.api import openapi
from paygate.api.auth import authenticate
from paygate.api.keys import KEYS, POOL, SETTINGS
from paygate.errors import FieldError, NotFound, ValidationFailed
from paygate.recon import repository as repo
from paygate.recon.service import ResolveAction, resolve_break, run_reconciliation

routes = web.RouteTableDef()
STATEMENT_TYPES = ("application/xml", "text/xml", "text/plain", "text/csv")
SCOPE = "operator"

openapi.register(
    "POST",
    "/v1/reconciliations",
    "Reconcile a channel statement: ?channel=ID&as_of=YYYY-MM-DD (as_of defaults to today), "
    "body = camt.053 or camt.054 (application/xml), MT940/MT950 (text/plain) or a card "
    "settlement CSV (text/csv); the format is detected. Importing the same statement again "
    "adds no lines. Returns the run summary.",
    scope=SCOPE,
    status="201",
)
openapi.register(
    "GET",
    "/v1/reconciliations/{id}",
    "A reconciliation run: summary, report paths and every break with its grade, proposed "
    "action and resolution.",
    scope=SCOPE,
)
openapi.register(
    "POST",
    "/v1/reconciliations/{id}/breaks/{break_id}/resolve",
    "Resolve a break: JSON {action, reason}; action one of "
    + ", ".join(a.value for a in ResolveAction)
    + ". Recorded with the operator and time. correct_status settles a payment the rail "
    "settled, mark_failed fails it (where its state allows); other actions add an event.",
    scope=SCOPE,
)
openapi.register(
    "GET",
    "/v1/reports/aggregates",
    "Daily or monthly figures per rail for the operations view: ?period=day|month "
    "(default day), optional channel=ID, from=YYYY-MM-DD and to=YYYY-MM-DD (inclusive, by "
    "the payment's UTC creation date). Each row: channel, period, volume (payments routed "
    "to the rail), settled, failed (failed, rejected, returned, cancelled), success_rate "
    "(settled over decided, null when nothing is decided) and the settled amount per "
    "currency (decimal strings).",
    scope=SCOPE,
)


def _uuid(request: web.Request, name: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(request.match_info[name])
    except ValueError:
        raise NotFound(f"no {what} {request.match_info[name]}") from None


def _query(request: web.Request) -> tuple[str, dt.date]:
    errors: list[FieldError] = []
    channel = request.query.get("channel", "").strip()
    if not channel:
        errors.append(FieldError("/query/channel", "required: the channel the statement is of"))
    raw = request.query.get("as_of")
    as_of = dt.datetime.now(dt.UTC).date()
    if raw is not None:
        try:
            as_of = dt.date.fromisoformat(raw)
        except ValueError:
            errors.append(FieldError("/query/as_of", f"not a date (YYYY-MM-DD): {raw!r}"))
    if errors:
        names = ", ".join(e.pointer.rsplit("/", 1)[-1] for e in errors)
        raise ValidationFailed(f"bad query parameter(s): {names}", errors)
    return channel, as_of


@routes.post("/v1/reconciliations")
async def create_reconciliation(request: web.Request) -> web.Response:
    await authenticate(request, request.app[KEYS], SCOPE)
    channel, as_of = _query(request)
    if request.content_type not in STATEMENT_TYPES:
        raise web.HTTPUnsupportedMediaType(
            text=f"send the statement as one of {', '.join(STATEMENT_TYPES)}, "
            f"not {request.content_type or 'nothing'}"
        )
    data = await request.read()
    result = await run_reconciliation(
        request.app[POOL],
        channel=channel,
        data=data,
        as_of=as_of,
        reports_dir=request.app[SETTINGS].reports_dir,
    )
    body = {
        "id": str(result.run_id),
        "channel": result.channel,
        "as_of": result.as_of.isoformat(),
        "summary": result.summary,
        "report_paths": result.report_paths,
    }
    return web.json_response(
        body, status=201, headers={"Location": f"/v1/reconciliations/{result.run_id}"}
    )


@routes.get("/v1/reconciliations/{id}")
async def get_reconciliation(request: web.Request) -> web.Response:
    await authenticate(request, request.app[KEYS], SCOPE)
    run_id = _uuid(request, "id", "reconciliation run")
    async with request.app[POOL].acquire() as conn:
        run = await repo.get_run(conn, run_id)
        run["breaks"] = await repo.run_breaks(conn, run_id)
    return web.json_response(run)


def _day(request: web.Request, name: str, errors: list[FieldError]) -> dt.datetime | None:
    raw = request.query.get(name)
    if raw is None or not raw.strip():
        return None
    try:
        return dt.datetime.combine(dt.date.fromisoformat(raw.strip()), dt.time(), tzinfo=dt.UTC)
    except ValueError:
        errors.append(FieldError(f"/query/{name}", f"not a date (YYYY-MM-DD): {raw!r}"))
        return None


@routes.get("/v1/reports/aggregates")
async def aggregates(request: web.Request) -> web.Response:
    await authenticate(request, request.app[KEYS], SCOPE)
    errors: list[FieldError] = []
    period = request.query.get("period", "day")
    if period not in ("day", "month"):
        errors.append(FieldError("/query/period", f"must be day or month, not {period!r}"))
    channel = request.query.get("channel", "").strip() or None
    since = _day(request, "from", errors)
    to = _day(request, "to", errors)
    if errors:
        names = ", ".join(e.pointer.rsplit("/", 1)[-1] for e in errors)
        raise ValidationFailed(f"bad query parameter(s): {names}", errors)
    until = None if to is None else to + dt.timedelta(days=1)
    async with request.app[POOL].acquire() as conn:
        rows = await repo.rail_aggregates(
            conn,
            "month" if period == "month" else "day",
            channel=channel,
            since=since,
            until=until,
        )
    return web.json_response(
        {"period": period, "channel": channel, "aggregates": [r.to_dict() for r in rows]}
    )


def _resolution(document: Any) -> tuple[ResolveAction, str]:
    if not isinstance(document, dict):
        raise ValidationFailed("the body must be a JSON object", [FieldError("", "not an object")])
    errors: list[FieldError] = []
    action_raw = document.get("action")
    action: ResolveAction | None = None
    try:
        action = ResolveAction(str(action_raw))
    except ValueError:
        allowed = ", ".join(a.value for a in ResolveAction)
        errors.append(FieldError("/action", f"must be one of {allowed}, not {action_raw!r}"))
    reason = document.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        errors.append(FieldError("/reason", "required: why the operator chose this action"))
    elif len(reason) > 1000:
        errors.append(FieldError("/reason", "at most 1000 characters"))
    if errors or action is None or not isinstance(reason, str):
        names = ", ".join(e.pointer.lstrip("/") for e in errors)
        raise ValidationFailed(f"invalid field(s): {names}", errors)
    return action, reason.strip()


@routes.post("/v1/reconciliations/{id}/breaks/{break_id}/resolve")
async def resolve(request: web.Request) -> web.Response:
    principal = await authenticate(request, request.app[KEYS], SCOPE)
    run_id = _uuid(request, "id", "reconciliation run")
    break_id = _uuid(request, "break_id", "break")
    if request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(text="send Content-Type application/json")
    try:
        document = json.loads(await request.read())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed(
            "the body is not valid JSON", [FieldError("", f"malformed JSON: {exc}")]
        ) from None
    action, reason = _resolution(document)
    resolved = await resolve_break(
        request.app[POOL],
        run_id,
        break_id,
        operator=principal.client_name,
        action=action,
        reason=reason,
    )
    return web.json_response(resolved)
