"""Payment intake and the upstream's view: create, read, list, events."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import uuid
from typing import Any

from aiohttp import web

from paygate.api.auth import authenticate
from paygate.api.keys import INTAKE, KEYS, POOL
from paygate.domain import PaymentOrder, PaymentStatus, parse_model
from paygate.errors import FieldError, NotFound, ValidationFailed
from paygate.store import payments as repo

routes = web.RouteTableDef()
JSON_TYPES = ("application/json",)


def fingerprint(document: Any) -> bytes:
    """Same meaning, same fingerprint: key order and whitespace do not matter."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).digest()


def idempotency_key(request: web.Request) -> str:
    key = request.headers.get("Idempotency-Key")
    if key is None or not 1 <= len(key) <= 255:
        raise ValidationFailed(
            "an Idempotency-Key header of 1 to 255 characters is required",
            [FieldError("/headers/Idempotency-Key", "required, 1 to 255 characters")],
        )
    return key


async def read_json(request: web.Request) -> Any:
    if request.content_type not in JSON_TYPES:
        raise web.HTTPUnsupportedMediaType(
            text=f"send Content-Type application/json, not {request.content_type or 'nothing'}"
        )
    raw = await request.read()
    try:  # what json.loads(raw, parse_constant=...) does, with one decoder for all requests
        return _DECODER.decode(raw.decode(json.detect_encoding(raw), "surrogatepass"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed(
            "the body is not valid JSON", [FieldError("", f"malformed JSON: {exc}")]
        ) from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def payment_resource(row: repo.PaymentRow) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "status": row.status.value,
        "amount": {"value": str(row.amount), "currency": row.currency},
        "end_to_end_id": row.end_to_end_id,
        "instruction_id": row.instruction_id,
        "uetr": str(row.uetr),
        "client_reference": row.order_doc.get("client_reference"),
        "channel": row.channel,
        "channel_reference": row.channel_reference,
        "fee": None if row.fee is None else str(row.fee),
        "merge_id": None if row.merge_id is None else str(row.merge_id),
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }


@routes.post("/v1/payments")
async def create_payment(request: web.Request) -> web.Response:
    principal = await authenticate(request, request.app[KEYS], "submit")
    key = idempotency_key(request)
    document = await read_json(request)
    if not isinstance(document, dict):
        raise ValidationFailed("the body must be a JSON object", [FieldError("", "not an object")])
    order = parse_model(PaymentOrder, document)
    new = repo.NewPayment(
        client_id=principal.client_id,
        idempotency_key=key,
        fingerprint=fingerprint(document),
        order=order,
        order_json=order.model_dump_json(),  # stored as is: no dict, no second dump
    )
    created, response = await request.app[INTAKE].insert(new, dt.datetime.now(dt.UTC))
    headers = {"Location": f"/v1/payments/{response['id']}"}
    if not created:
        headers["Idempotent-Replayed"] = "true"
    return web.json_response(response, status=201, headers=headers)


def _payment_id(request: web.Request) -> uuid.UUID:
    try:
        return uuid.UUID(request.match_info["id"])
    except ValueError:
        raise NotFound(f"no payment {request.match_info['id']}") from None


@routes.get("/v1/payments/{id}")
async def get_payment(request: web.Request) -> web.Response:
    principal = await authenticate(request, request.app[KEYS], "read")
    row = await repo.get_payment(request.app[POOL], _payment_id(request), principal.client_id)
    return web.json_response(payment_resource(row))


@routes.get("/v1/payments/{id}/events")
async def get_events(request: web.Request) -> web.Response:
    principal = await authenticate(request, request.app[KEYS], "read")
    payment_id = _payment_id(request)
    await repo.get_payment(request.app[POOL], payment_id, principal.client_id)
    events = await repo.events(request.app[POOL], payment_id)
    return web.json_response(
        {
            "payment_id": str(payment_id),
            "events": [
                {
                    "at": e.at.isoformat(),
                    "from": e.from_status,
                    "to": e.to_status,
                    "reason": e.reason,
                    "data": e.data,
                }
                for e in events
            ],
        }
    )


def _cursor_in(raw: str | None) -> uuid.UUID | None:
    if not raw:
        return None
    try:
        return uuid.UUID(bytes=base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (ValueError, TypeError):
        raise ValidationFailed(
            "bad cursor", [FieldError("/query/cursor", "not a cursor")]
        ) from None


def _cursor_out(last: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(last.bytes).decode().rstrip("=")


@routes.get("/v1/payments")
async def list_payments(request: web.Request) -> web.Response:
    principal = await authenticate(request, request.app[KEYS], "read")
    q = request.query
    errors: list[FieldError] = []
    status = q.get("status")
    if status is not None and status not in {s.value for s in PaymentStatus}:
        errors.append(FieldError("/query/status", f"unknown status {status!r}"))
    since = None
    if q.get("since"):
        try:
            since = dt.datetime.fromisoformat(q["since"])
            if since.tzinfo is None:
                since = since.replace(tzinfo=dt.UTC)
        except ValueError:
            errors.append(FieldError("/query/since", "not an ISO 8601 date-time"))
    try:
        limit = int(q.get("limit", "100"))
        if not 1 <= limit <= 1000:
            raise ValueError
    except ValueError:
        errors.append(FieldError("/query/limit", "an integer from 1 to 1000"))
        limit = 100
    if errors:
        raise ValidationFailed("bad query parameters", errors)
    rows = await repo.list_payments(
        request.app[POOL],
        principal.client_id,
        status=status,
        since=since,
        after=_cursor_in(q.get("cursor")),
        limit=limit,
    )
    body: dict[str, Any] = {"items": [payment_resource(r) for r in rows], "next_cursor": None}
    if len(rows) == limit:
        body["next_cursor"] = _cursor_out(rows[-1].id)
    return web.json_response(body)
