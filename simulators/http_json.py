"""JSON payment API (card, citybank): POST /payments, GET /payments/{reference}."""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web

from simulators.http_common import act_out, rail_of
from simulators.ledger import ACCEPTED, RECEIVED, REJECTED, SETTLED, Entry
from simulators.rail import Instruction

_AMOUNT = re.compile(r"^\d{1,15}(\.\d{1,5})?$")
_CCY = re.compile(r"^[A-Z]{3}$")
_PUBLIC = {SETTLED: "settled", ACCEPTED: "accepted", RECEIVED: "accepted", REJECTED: "rejected"}
_REQUIRED = ("reference", "amount", "currency", "debtor_account", "creditor_account")


def payment_json(entry: Entry) -> dict[str, Any]:
    return {
        "reference": entry.reference,
        "status": _PUBLIC[entry.phase],
        "reason": entry.reason,
        "fee": str(entry.fee) if entry.phase != REJECTED else "0.00",
        "end_to_end_id": entry.end_to_end_id,
        "uetr": entry.uetr,
        "amount": str(entry.amount),
        "currency": entry.currency,
        "value_date": entry.value_date.isoformat() if entry.value_date else None,
        "bank_ref": entry.bank_ref or None,
    }


def _format_reject(reference: Any, detail: str) -> web.Response:
    # Not booked: a corrected resend with the same reference is a new payment.
    ref = reference if isinstance(reference, str) else None
    return web.json_response(
        {"reference": ref, "status": "rejected", "reason": "FF01", "fee": "0.00", "detail": detail}
    )


def parse_payment(data: Any) -> Instruction | str:
    """An Instruction, or the reason the body is malformed."""
    if not isinstance(data, dict):
        return "body must be a JSON object"
    for key in _REQUIRED:
        if not isinstance(data.get(key), str) or not data[key]:
            return f"{key} is required (string)"
    if len(data["reference"]) > 35:
        return "reference longer than 35 characters"
    if not _AMOUNT.match(data["amount"]):
        return "amount must be a decimal string like 123.45"
    if not _CCY.match(data["currency"]):
        return "currency must be an ISO 4217 code"
    for key in ("creditor_name", "end_to_end_id", "uetr"):
        if data.get(key) is not None and not isinstance(data[key], str):
            return f"{key} must be a string"
    try:
        amount = Decimal(data["amount"])
    except InvalidOperation:
        return "amount is not a decimal"
    return Instruction(
        reference=data["reference"],
        end_to_end_id=data.get("end_to_end_id") or data["reference"],
        uetr=data.get("uetr"),
        amount=amount,
        currency=data["currency"],
        debtor_account=data["debtor_account"],
        creditor_account=data["creditor_account"],
        creditor_name=data.get("creditor_name") or "",
    )


async def post_payment(request: web.Request) -> web.StreamResponse:
    rail = rail_of(request)
    try:
        data = json.loads(await request.read())
    except (ValueError, UnicodeDecodeError):
        return _format_reject(None, "body is not JSON")
    parsed = parse_payment(data)
    if isinstance(parsed, str):
        return _format_reject(data.get("reference") if isinstance(data, dict) else None, parsed)
    submission = await rail.submit([parsed], callback_url=request.headers.get("X-Callback-Url"))
    response = web.json_response(payment_json(submission.results[0].entry))
    return await act_out(rail, submission.fault, request, response)


async def get_payment(request: web.Request) -> web.StreamResponse:
    rail = rail_of(request)
    entry = rail.find(reference=request.match_info["reference"])
    if entry is None:
        return web.json_response(
            {"error": "not_found", "reference": request.match_info["reference"]}, status=404
        )
    return web.json_response(payment_json(entry))
