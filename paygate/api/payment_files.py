"""Payment-file intake: one pain.001 or MT103/MT101 file becomes many payments.

Every item is checked before anything is written. A file with an invalid item is refused
whole (422, every error listed) unless the client asks ``?partial=true``; then the valid
items are inserted in one transaction and the invalid ones reported. Each item is
idempotent on ``"{file Idempotency-Key}:{instruction id}"``, so posting the same file
again creates nothing new and answers with the same payment ids.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from paygate.api import openapi
from paygate.api.auth import authenticate
from paygate.api.keys import KEYS, POOL
from paygate.api.payments import fingerprint, idempotency_key
from paygate.api.problems import problem
from paygate.domain import PaymentOrder
from paygate.errors import FieldError, UnsupportedMessage
from paygate.messages.mt.payments import split_mt_payments
from paygate.messages.pain001 import parse_pain001
from paygate.store import payments as repo

routes = web.RouteTableDef()
XML_TYPES = ("application/xml", "text/xml")
MT_TYPES = ("text/plain", "application/x-swift-mt")
_FILE_NS = uuid.UUID("0b6f3c52-6a43-4d39-8d0e-3f4e1b1f5a77")

openapi.register(
    "POST",
    "/v1/payment-files",
    "Submit a payment file: pain.001 (application/xml) or MT103/MT101 (text/plain, "
    "application/x-swift-mt). Idempotency-Key required; one payment per valid item, "
    "each idempotent on '{key}:{instruction id}'. Invalid items reject the whole file "
    "(422) unless ?partial=true.",
    scope="submit",
    status="202",
)


@dataclass(frozen=True)
class FileItem:
    order: PaymentOrder | None
    instruction_id: str
    errors: list[FieldError]


async def _read_items(request: web.Request) -> tuple[str, list[FileItem]]:
    content_type = request.content_type
    if content_type not in XML_TYPES + MT_TYPES:
        raise web.HTTPUnsupportedMediaType(
            text=(
                "send a pain.001 as application/xml or MT103/MT101 as text/plain or "
                f"application/x-swift-mt, not {content_type or 'nothing'}"
            )
        )
    raw = await request.read()
    if content_type in XML_TYPES:
        return "pain.001", [
            FileItem(i.order, i.instruction_id, i.errors) for i in parse_pain001(raw)
        ]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UnsupportedMessage("an MT file must be UTF-8 (or ASCII) text") from None
    return "MT", [FileItem(i.order, i.sender_reference, i.errors) for i in split_mt_payments(text)]


def _item_fingerprint(order: PaymentOrder) -> bytes:
    # The UETR is left out: a file item without one gets a fresh UETR on every parse, and
    # the re-posted file must still be recognised as the same request.
    document = order.model_dump(mode="json", exclude={"uetr"})
    return fingerprint(document)


def _pointer(index: int, error: FieldError) -> FieldError:
    pointer = error.pointer
    prefix = f"/items/{index}"
    if pointer.startswith(prefix):
        return error
    sep = "" if pointer.startswith("/") else "/"
    return FieldError(f"{prefix}{sep}{pointer}", error.reason)


@routes.post("/v1/payment-files")
async def create_payment_file(request: web.Request) -> web.Response:
    principal = await authenticate(request, request.app[KEYS], "submit")
    key = idempotency_key(request)
    partial = request.query.get("partial", "false").lower() in ("true", "1", "yes")
    kind, items = await _read_items(request)
    file_id = uuid.uuid5(_FILE_NS, f"{principal.client_id}:{key}")
    invalid = [
        _pointer(i, e) for i, item in enumerate(items) if item.order is None for e in item.errors
    ]
    if invalid and not partial:
        bad = sum(1 for item in items if item.order is None)
        return problem(
            422,
            "file-invalid",
            "The payment file has invalid items",
            f"{bad} of {len(items)} items are invalid; nothing was accepted "
            "(send ?partial=true to accept the valid items)",
            errors=invalid,
        )
    now = dt.datetime.now(dt.UTC)
    results: list[dict[str, Any]] = []
    created_any = False
    async with request.app[POOL].acquire() as conn, conn.transaction():
        for index, item in enumerate(items):
            entry: dict[str, Any] = {
                "index": index,
                "instruction_id": item.instruction_id,
                "payment_id": None,
                "status": "rejected",
                "errors": [],
            }
            if item.order is None:
                entry["errors"] = [
                    {"pointer": e.pointer, "detail": e.reason}
                    for e in (_pointer(index, err) for err in item.errors)
                ]
            else:
                new = repo.NewPayment(
                    client_id=principal.client_id,
                    idempotency_key=f"{key}:{item.instruction_id}",
                    fingerprint=_item_fingerprint(item.order),
                    order=item.order,
                    order_doc=item.order.model_dump(mode="json"),
                )
                created, response = await repo.insert_payment(conn, new, now)
                created_any = created_any or created
                entry["payment_id"] = response["id"]
                entry["status"] = response["status"]
            results.append(entry)
    body = {
        "file_id": str(file_id),
        "format": kind,
        "sha256": hashlib.sha256(await request.read()).hexdigest(),
        "accepted": sum(1 for r in results if r["payment_id"] is not None),
        "rejected": sum(1 for r in results if r["payment_id"] is None),
        "items": results,
    }
    replayed = body["accepted"] and not created_any
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    return web.json_response(body, status=202, headers=headers)
