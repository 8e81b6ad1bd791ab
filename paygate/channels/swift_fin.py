"""SWIFT FIN correspondent rail: MT103 out (UETR in block 3 field 121), MT199 status back,
JSON status inquiry by UETR. De-duplication at the rail is on the UETR."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from paygate.channels.base import (
    ChannelResult,
    HttpCall,
    InquiryRequest,
    Outcome,
    SubmissionRequest,
)
from paygate.errors import ChannelProtocolError, MessageError
from paygate.messages.mt.mt103 import build_mt103
from paygate.messages.mt.mt199 import parse_mt199_status

_STATUS = {
    "ACSC": Outcome.SETTLED,
    "ACCC": Outcome.SETTLED,
    "settled": Outcome.SETTLED,
    "ACSP": Outcome.ACCEPTED,
    "received": Outcome.RECEIVED,
    "RJCT": Outcome.REJECTED,
    "rejected": Outcome.REJECTED,
}


@dataclass(frozen=True)
class SwiftFinRail:
    channel_id: str
    sender_bic: str = "PAYGDEFFXXX"
    receiver_bic: str = "CORRUS33XXX"
    protocol: str = "swift_fin"

    def submit_call(self, request: SubmissionRequest) -> HttpCall:
        text = build_mt103(
            request.order,
            sender_reference=request.reference,
            value_date=request.order.requested_execution_date or request.now.date(),
            sender_bic=self.sender_bic,
            receiver_bic=self.receiver_bic,
        )
        return HttpCall("POST", "/mt103", text.encode(), {"Content-Type": "text/plain"})

    def read_submit(self, status: int, body: bytes, request: SubmissionRequest) -> ChannelResult:
        try:
            _uetr, code, reason = parse_mt199_status(body.decode("utf-8", "replace"))
        except MessageError as exc:
            raise ChannelProtocolError(
                f"{self.channel_id} answered HTTP {status} with an unreadable MT199: {exc}"
            ) from exc
        return self._result(code, reason, request.reference)

    def inquiry_call(self, request: InquiryRequest) -> HttpCall:
        if request.uetr is None:
            raise ChannelProtocolError("a SWIFT inquiry needs the UETR")
        return HttpCall("GET", f"/status/{request.uetr}")

    def read_inquiry(self, status: int, body: bytes, request: InquiryRequest) -> ChannelResult:
        if status == 404:
            return ChannelResult(Outcome.NOT_FOUND)
        try:
            doc: Any = json.loads(body)
            code = str(doc["status"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ChannelProtocolError(f"{self.channel_id}: unreadable status answer") from exc
        return self._result(code, doc.get("reason"), request.reference)

    def _result(self, code: str, reason: str | None, reference: str) -> ChannelResult:
        outcome = _STATUS.get(code)
        if outcome is None:
            raise ChannelProtocolError(f"{self.channel_id}: unknown status {code!r}")
        return ChannelResult(outcome, reason, None, channel_reference=reference)
