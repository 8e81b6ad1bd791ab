"""ISO 20022 rails (rtgs, batch, instant, cips, citybank): pacs.008 out, pacs.002 back,
pacs.028 status inquiry. HTTP 404 to an inquiry is the rail's word that it never received
the reference."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from paygate.channels.base import (
    ChannelResult,
    HttpCall,
    InquiryRequest,
    Outcome,
    SubmissionRequest,
)
from paygate.errors import ChannelError, ChannelProtocolError, MessageError
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
    # 1: one payment per pacs.008 (what most RTGS schemes demand). More lets the gateway
    # bundle payments to a rail that books each transaction of a message on its own.
    max_transactions_per_message: int = 1
    protocol: str = "iso20022"

    def __post_init__(self) -> None:
        size = self.max_transactions_per_message
        if not 1 <= size <= 1000:
            raise ValueError(f"max_transactions_per_message must be 1..1000, not {size}")

    def submit_call(self, request: SubmissionRequest) -> HttpCall:
        # Alone, the message id is the payment's reference: a resend is the same message.
        return self.bundle_call(request.reference, [request])

    def read_submit(self, status: int, body: bytes, request: SubmissionRequest) -> ChannelResult:
        return self._read_status(status, body, request.reference)

    def bundle_call(self, msg_id: str, requests: Sequence[SubmissionRequest]) -> HttpCall:
        first = requests[0]
        settlement_date = first.order.requested_execution_date or first.now.date()
        if any(
            (r.order.requested_execution_date or r.now.date()) != settlement_date
            for r in requests[1:]
        ):
            raise ValueError("one pacs.008 carries payments of one settlement date")
        body = build_pacs008(
            [r.order for r in requests],
            msg_id=msg_id,
            created=first.now,
            tx_ids=[r.reference for r in requests],
            settlement_date=settlement_date,
            instructing_agent_bic=self.instructing_bic,
            instructed_agent_bic=self.instructed_bic,
            settlement_method=self.settlement_method,
        )
        return HttpCall("POST", "/pacs008", body, _XML)

    def read_bundle(
        self, status: int, body: bytes, requests: Sequence[SubmissionRequest]
    ) -> list[ChannelResult | ChannelError]:
        statuses = self._statuses(status, body)
        by_reference = {st.original_tx_id: st for st in statuses if st.original_tx_id}
        # A report with only a group status (e.g. FF01 on the whole message) answers for all.
        group = statuses[0] if len(statuses) == 1 and statuses[0].group_level else None
        out: list[ChannelResult | ChannelError] = []
        for r in requests:
            mine = by_reference.get(r.reference, group)
            if mine is None:
                out.append(
                    ChannelProtocolError(
                        f"{self.channel_id}: pacs.002 has no status for {r.reference}"
                    )
                )
                continue
            try:
                out.append(self._result(mine, r.reference))
            except ChannelProtocolError as exc:
                out.append(exc)
        return out

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
        return self._result(_pick(self._statuses(status, body), reference), reference)

    def _statuses(self, status: int, body: bytes) -> list[TxStatus]:
        try:
            return parse_pacs002(body)
        except MessageError as exc:
            raise ChannelProtocolError(
                f"{self.channel_id} answered HTTP {status} with an unreadable pacs.002: {exc}"
            ) from exc

    def _result(self, mine: TxStatus, reference: str) -> ChannelResult:
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
