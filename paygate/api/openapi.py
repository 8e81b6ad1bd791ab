"""The OpenAPI 3.1 document: every route the application serves, with schemas generated from
the pydantic models. A route missing here fails ``test_openapi_lists_every_route``."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from paygate.api.problems import PROBLEM_SCHEMA
from paygate.domain import PaymentOrder

PAYMENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "status": {"type": "string"},
        "amount": {
            "type": "object",
            "properties": {"value": {"type": "string"}, "currency": {"type": "string"}},
        },
        "end_to_end_id": {"type": "string"},
        "uetr": {"type": "string", "format": "uuid"},
        "channel": {"type": ["string", "null"]},
        "fee": {"type": ["string", "null"]},
        "created_at": {"type": "string", "format": "date-time"},
    },
}

# (method, path) -> summary, request schema ref, scope
OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/v1/payments"): {
        "summary": "Submit a payment order (Idempotency-Key required)",
        "request": "PaymentOrder",
        "scope": "submit",
        "status": "201",
    },
    ("GET", "/v1/payments"): {"summary": "List payments (keyset pagination)", "scope": "read"},
    ("GET", "/v1/payments/{id}"): {"summary": "One payment", "scope": "read"},
    ("GET", "/v1/payments/{id}/events"): {"summary": "The payment's timeline", "scope": "read"},
    ("GET", "/healthz"): {"summary": "Liveness"},
    ("GET", "/readyz"): {"summary": "Readiness: database reachable, migrations applied"},
    ("GET", "/metrics"): {"summary": "Prometheus metrics"},
    ("GET", "/openapi.json"): {"summary": "This document"},
}


def register(method: str, path: str, summary: str, **extra: Any) -> None:
    """Modules that add routes describe them here, next to the route definition."""
    OPERATIONS[(method, path)] = {"summary": summary, **extra}


def openapi_document(router: web.UrlDispatcher) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for resource in router.resources():
        path = resource.canonical
        for route in resource:
            method = route.method
            if method == "HEAD":
                continue
            info = OPERATIONS.get((method, path), {"summary": f"{method} {path}"})
            op: dict[str, Any] = {
                "summary": info["summary"],
                "responses": {
                    info.get("status", "200"): {"description": "OK"},
                    "default": {
                        "description": "Problem",
                        "content": {
                            "application/problem+json": {
                                "schema": {"$ref": "#/components/schemas/Problem"}
                            }
                        },
                    },
                },
            }
            if "scope" in info:
                op["security"] = [{"bearer": [info["scope"]]}]
            if "request" in info:
                op["requestBody"] = {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": f"#/components/schemas/{info['request']}"}
                        }
                    },
                }
            params = [p.strip("{}") for p in path.split("/") if p.startswith("{")]
            if params:
                op["parameters"] = [
                    {"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                    for p in params
                ]
            paths.setdefault(path, {})[method.lower()] = op
    order_schema = PaymentOrder.model_json_schema(ref_template="#/components/schemas/{model}")
    defs = order_schema.pop("$defs", {})
    return {
        "openapi": "3.1.0",
        "info": {"title": "paygate", "version": "1", "description": "Unified payment gateway"},
        "paths": paths,
        "components": {
            "schemas": {
                "PaymentOrder": order_schema,
                "Payment": PAYMENT_SCHEMA,
                "Problem": PROBLEM_SCHEMA,
                **defs,
            },
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
