"""RFC 9457 problem+json: every error the API returns, with a stable ``type`` URI."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from paygate.errors import FieldError

PROBLEM_BASE = "https://paygate.dev/problems/"
CONTENT_TYPE = "application/problem+json"


def problem(
    status: int,
    kind: str,
    title: str,
    detail: str,
    *,
    errors: list[FieldError] | None = None,
    extra: dict[str, Any] | None = None,
) -> web.Response:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + kind,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = [{"pointer": e.pointer, "detail": e.reason} for e in errors]
    if extra:
        body.update(extra)
    return web.Response(status=status, body=json.dumps(body).encode(), content_type=CONTENT_TYPE)


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"pointer": {"type": "string"}, "detail": {"type": "string"}},
            },
        },
    },
}
