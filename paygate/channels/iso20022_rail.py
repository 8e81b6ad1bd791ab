"""ISO 20022 rails (rtgs, batch, instant, cips, citybank): pacs.008 out, pacs.002 back,
pacs.028 status inquiry. HTTP 404 to an inquiry is the rail's word that it never received
the reference."""

from __future__ import annotations

from dataclasses import dataclass

from paygate.channels.base import (
    ChannelResult,
    HttpCall,
    InquiryRequest,
    Outcome,
    SubmissionRequest,
)
from paygate.errors import ChannelProtocolError, MessageError
from paygate.messages.pacs002 import TxStatus, parse_pacs002
from paygate.messages.pacs008 import build_pacs008
from paygate.messages.pacs028 import build_pacs028

_XML = {"Content-Type": "application/xml"}

# ISO external payment transaction status codes → what the engine does next.
_STATUS = {
    "ACSC": Outcome.SETTLED,
    "ACCC": Outcome.SETTLED,
    "ACSP": Outcome.ACCEPTED,
    "ACCP": Outcome.ACCEPTED,
    "ACTC": Outcome.ACCEPTED,
    "PDNG": Outcome.RECEIVED,
    "RCVD": Outcome.RECEIVED,
    "RJCT": Outcome.REJECTED,
}


@dataclass(frozen=True)
class Iso20022Rail:
    channel_id: str
    instructing_bic: str = "PAYGDEFFXXX"
    instructed_bic: str | None = None
    settlement_method: str = "CLRG"
    protocol: str = "iso20022"

    def submit_call(self, request: SubmissionRequest) -> HttpCall:
        body = build_pacs008(
            [request.order],
            msg_id=request.reference,
            created=request.now,
            tx_ids=[request.reference],
            settlement_date=request.order.requested_execution_date or request.now.date(),
            instructing_agent_bic=self.instructing_bic,
            instructed_agent_bic=self.instructed_bic,
            settlement_method=self.settlement_method,
        )
        return HttpCall("POST", "/pacs008", body, _XML)

    def read_submit(self, status: int, body: bytes, request: SubmissionRequest) -> ChannelResult:
        return self._read_status(status, body, request.reference)

    def inquiry_call(self, request: InquiryRequest) -> HttpCall:
        body = build_pacs028(
            msg_id=f"Q{request.reference}"[:35],
            created=request.now,
            tx_id=request.reference,
            uetr=request.uetr,
            end_to_end_id=request.end_to_end_id,
        )
        return HttpCall("POST", "/pacs028", body, _XML)

    def read_inquiry(self, status: int, body: bytes, request: InquiryRequest) -> ChannelResult:
        if status == 404:
            return ChannelResult(Outcome.NOT_FOUND)
        return self._read_status(status, body, request.reference)

    def _read_status(self, status: int, body: bytes, reference: str) -> ChannelResult:
        try:
            statuses = parse_pacs002(body)
        except MessageError as exc:
            raise ChannelProtocolError(
                f"{self.channel_id} answered HTTP {status} with an unreadable pacs.002: {exc}"
            ) from exc
        mine = _pick(statuses, reference)
        outcome = _STATUS.get(mine.status)
        if outcome is None:
            raise ChannelProtocolError(f"{self.channel_id}: unknown status {mine.status!r}")
        return ChannelResult(
            outcome, mine.reason_code, mine.reason_text, channel_reference=reference
        )


def _pick(statuses: list[TxStatus], reference: str) -> TxStatus:
    for st in statuses:
        if st.original_tx_id == reference:
            return st
    if len(statuses) == 1:  # a group-level status (e.g. FF01 on the whole message)
        return statuses[0]
    raise ChannelProtocolError(f"pacs.002 carries no status for {reference}")
