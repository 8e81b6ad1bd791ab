"""Request id, access metrics, and the mapping of typed errors to problem+json."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web

from paygate.api.keys import METRICS, SETTINGS
from paygate.api.problems import problem
from paygate.errors import (
    AuthError,
    IdempotencyConflict,
    MessageError,
    NotFound,
    PaygateError,
    RoutingFailed,
    SchemaInvalid,
    StateError,
    ValidationFailed,
)
from paygate.logs import get_logger

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
log = get_logger("paygate.api")


def error_response(exc: PaygateError) -> web.Response:
    if isinstance(exc, ValidationFailed):
        return problem(422, "validation", "The request is not valid", exc.detail, errors=exc.errors)
    if isinstance(exc, SchemaInvalid):
        return problem(
            422, "message-invalid", "The message is not valid", exc.detail, errors=exc.errors
        )
    if isinstance(exc, MessageError):
        return problem(
            422,
            "message-invalid",
            "The message cannot be read",
            exc.detail,
            errors=getattr(exc, "errors", None),
        )
    if isinstance(exc, IdempotencyConflict):
        return problem(409, "idempotency-conflict", "Idempotency key reused", exc.detail)
    if isinstance(exc, StateError):
        return problem(409, "state-conflict", "Not possible in the current state", exc.detail)
    if isinstance(exc, NotFound):
        return problem(404, "not-found", "Not found", exc.detail)
    if isinstance(exc, AuthError):
        title = "Authentication required" if exc.status == 401 else "Not allowed"
        return problem(
            exc.status, "unauthorized" if exc.status == 401 else "forbidden", title, exc.detail
        )
    if isinstance(exc, RoutingFailed):
        return problem(422, "no-route", "No channel can carry this payment", exc.detail)
    return problem(500, "internal", "Internal error", "the gateway failed; see its logs")


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    request_id = request.headers.get("X-Request-Id") or uuid.uuid4().hex
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=request_id)
    started = time.perf_counter()
    route = request.match_info.route.resource
    route_name = route.canonical if route is not None else "unmatched"
    status = 500
    try:
        response = await _handle(request, handler)
        status = response.status
        response.headers["X-Request-Id"] = request_id
        return response
    finally:
        request.app[METRICS].requests.labels(request.method, route_name, str(status)).observe(
            time.perf_counter() - started
        )


async def _handle(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except PaygateError as exc:
        return error_response(exc)
    except web.HTTPRequestEntityTooLarge:
        limit = request.app[SETTINGS].body_limit_bytes
        return problem(
            413,
            "body-too-large",
            "Request body too large",
            f"the body exceeds the limit of {limit} bytes",
        )
    except web.HTTPNotFound:
        return problem(404, "not-found", "Not found", f"no resource at {request.path}")
    except web.HTTPMethodNotAllowed as exc:
        return problem(
            405,
            "method-not-allowed",
            "Method not allowed",
            f"{request.method} is not allowed here; use {', '.join(exc.allowed_methods)}",
        )
    except web.HTTPException as exc:
        if exc.status >= 400:
            return problem(exc.status, "http", exc.reason, exc.text or exc.reason)
        raise
    except Exception:
        log.exception("unhandled error", path=request.path)
        return problem(500, "internal", "Internal error", "the gateway failed; see its logs")
