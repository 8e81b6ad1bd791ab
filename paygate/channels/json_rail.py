"""JSON rails (card, citybank's JSON API): POST /payments, GET /payments/{reference}."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from paygate.channels.base import (
    ChannelResult,
    HttpCall,
    InquiryRequest,
    Outcome,
    SubmissionRequest,
)
from paygate.errors import ChannelProtocolError

_JSON = {"Content-Type": "application/json"}
_STATUS = {
    "settled": Outcome.SETTLED,
    "accepted": Outcome.ACCEPTED,
    "received": Outcome.RECEIVED,
    "rejected": Outcome.REJECTED,
}


@dataclass(frozen=True)
class JsonRail:
    channel_id: str
    protocol: str = "json"

    def submit_call(self, request: SubmissionRequest) -> HttpCall:
        order = request.order
        body = {
            "reference": request.reference,
            "amount": str(order.amount.value),
            "currency": order.amount.currency,
            "debtor_account": order.debtor_account.identifier,
            "creditor_account": order.creditor_account.identifier,
            "creditor_name": order.creditor.name,
            "end_to_end_id": order.end_to_end_id,
            "uetr": str(order.uetr),
            "items": request.items,
        }
        return HttpCall("POST", "/payments", json.dumps(body).encode(), _JSON)

    def read_submit(self, status: int, body: bytes, request: SubmissionRequest) -> ChannelResult:
        return self._read(status, body, request.reference)

    def inquiry_call(self, request: InquiryRequest) -> HttpCall:
        return HttpCall("GET", f"/payments/{request.reference}")

    def read_inquiry(self, status: int, body: bytes, request: InquiryRequest) -> ChannelResult:
        if status == 404:
            return ChannelResult(Outcome.NOT_FOUND)
        return self._read(status, body, request.reference)

    def _read(self, status: int, body: bytes, reference: str) -> ChannelResult:
        try:
            doc: Any = json.loads(body)
            outcome = _STATUS[doc["status"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise ChannelProtocolError(
                f"{self.channel_id} answered HTTP {status} with an unreadable body"
            ) from exc
        fee = _decimal(doc.get("fee"))
        return ChannelResult(outcome, doc.get("reason"), None, fee, reference)


def _decimal(raw: Any) -> Decimal | None:
    if raw is None:
        return None
    try:
        return Decimal(str(raw))
    except InvalidOperation:
        return None
