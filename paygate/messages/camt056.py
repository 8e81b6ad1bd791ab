"""camt.056 FI-to-FI payment cancellation request (out), camt.056.001.12, XSD-validated.

The request names the original payment by its references (UETR first) so the receiving
bank can find it; the case id is what the answer (camt.029) refers to.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import ValidationError

from paygate.domain import Money
from paygate.errors import FieldError, SchemaInvalid, UnsupportedMessage
from paygate.messages.mx import Builder, Reader, format_datetime, model_error, serialize
from paygate.messages.xsd import IsoDocument, default_registry, read_iso

MESSAGE_ID = "camt.056.001.12"


@dataclass(frozen=True)
class CancellationRequest:
    cancellation_id: str
    reason_code: str  # ExternalCancellationReason1Code: DUPL, FRAD, TECH, CUST, UPAY, AGNT
    original_uetr: uuid.UUID | None = None
    original_msg_id: str | None = None
    original_msg_name: str = "pacs.008.001.08"
    original_instruction_id: str | None = None
    original_end_to_end_id: str | None = None
    original_tx_id: str | None = None
    original_amount: Money | None = None
    original_settlement_date: dt.date | None = None
    reason_text: str | None = None


def build_camt056(
    requests: Sequence[CancellationRequest],
    *,
    assignment_id: str,
    assigner_bic: str,
    assignee_bic: str,
    created: dt.datetime,
    case_id: str | None = None,
) -> bytes:
    if not requests:
        raise SchemaInvalid("a camt.056 needs at least one transaction", [])
    b = Builder(MESSAGE_ID)
    doc = b.document()
    body = b.sub(doc, "FIToFIPmtCxlReq")
    asg = b.sub(body, "Assgnmt")
    b.sub(asg, "Id", assignment_id)
    b.path(asg, "Assgnr/Agt/FinInstnId/BICFI", assigner_bic)
    b.path(asg, "Assgne/Agt/FinInstnId/BICFI", assignee_bic)
    b.sub(asg, "CreDtTm", format_datetime(created))
    if case_id is not None:
        case = b.sub(body, "Case")
        b.sub(case, "Id", case_id)
        b.path(case, "Cretr/Agt/FinInstnId/BICFI", assigner_bic)
    undrlyg = b.sub(body, "Undrlyg")
    for i, r in enumerate(requests):
        if not (r.original_uetr or r.original_end_to_end_id or r.original_tx_id):
            raise SchemaInvalid(
                "a cancellation must name the original payment",
                [FieldError(f"/requests/{i}", "UETR, EndToEndId or TxId required")],
            )
        tx = b.sub(undrlyg, "TxInf")
        b.sub(tx, "CxlId", r.cancellation_id)
        if r.original_msg_id:
            grp = b.sub(tx, "OrgnlGrpInf")
            b.sub(grp, "OrgnlMsgId", r.original_msg_id)
            b.sub(grp, "OrgnlMsgNmId", r.original_msg_name)
        b.opt(tx, "OrgnlInstrId", r.original_instruction_id)
        b.opt(tx, "OrgnlEndToEndId", r.original_end_to_end_id)
        b.opt(tx, "OrgnlTxId", r.original_tx_id)
        b.opt(tx, "OrgnlUETR", str(r.original_uetr) if r.original_uetr else None)
        if r.original_amount is not None:
            b.amount(tx, "OrgnlIntrBkSttlmAmt", r.original_amount.value, r.original_amount.currency)
        if r.original_settlement_date is not None:
            b.sub(tx, "OrgnlIntrBkSttlmDt", r.original_settlement_date.isoformat())
        info = b.sub(tx, "CxlRsnInf")
        b.path(info, "Rsn/Cd" if len(r.reason_code) <= 4 else "Rsn/Prtry", r.reason_code)
        if r.reason_text:
            b.sub(info, "AddtlInf", r.reason_text[:105])
    default_registry().validate(IsoDocument(doc, None, MESSAGE_ID))
    return serialize(doc)


def parse_camt056(data: bytes) -> list[CancellationRequest]:
    """Read the transactions of any camt.056 version (used for golden round trips)."""
    iso = read_iso(data)
    if iso.kind != "camt.056":
        raise UnsupportedMessage(f"expected camt.056, got {iso.message_id}")
    root = Reader(iso.body, iso.namespace, "/Document/FIToFIPmtCxlReq")
    out = []
    for tx in root.children("Undrlyg/TxInf"):
        uetr = tx.text("OrgnlUETR")
        amount = tx.amount("OrgnlIntrBkSttlmAmt")
        try:
            original_uetr = uuid.UUID(uetr) if uetr else None
        except ValueError:
            raise SchemaInvalid(
                "OrgnlUETR is not a UUID", [FieldError(tx.where + "/OrgnlUETR", "not a UUID")]
            ) from None
        try:
            amount_money = Money(value=amount[0], currency=amount[1]) if amount else None
        except ValidationError as exc:
            raise model_error(tx.where, exc) from None
        out.append(
            CancellationRequest(
                cancellation_id=tx.text("CxlId") or "",
                reason_code=tx.text("CxlRsnInf/Rsn/Cd") or tx.text("CxlRsnInf/Rsn/Prtry") or "",
                original_uetr=original_uetr,
                original_msg_id=tx.text("OrgnlGrpInf/OrgnlMsgId"),
                original_msg_name=tx.text("OrgnlGrpInf/OrgnlMsgNmId") or "pacs.008.001.08",
                original_instruction_id=tx.text("OrgnlInstrId"),
                original_end_to_end_id=tx.text("OrgnlEndToEndId"),
                original_tx_id=tx.text("OrgnlTxId"),
                original_amount=amount_money,
                original_settlement_date=tx.date("OrgnlIntrBkSttlmDt"),
                reason_text=" ".join(tx.texts("CxlRsnInf/AddtlInf")) or None,
            )
        )
    return out


def cancellation_for_pacs008(
    data: bytes,
    *,
    reason_code: str,
    assignment_id: str,
    created: dt.datetime,
    reason_text: str | None = None,
) -> bytes:
    """A camt.056 asking to cancel every transaction of a pacs.008 we sent."""
    from paygate.messages.pacs008 import parse_pacs008

    message = parse_pacs008(data)
    first = message.transactions[0]
    assigner = first.instructing_agent_bic or (
        first.order.debtor_agent.bic if first.order.debtor_agent else None
    )
    assignee = first.instructed_agent_bic or (
        first.order.creditor_agent.bic if first.order.creditor_agent else None
    )
    if not assigner or not assignee:
        raise SchemaInvalid(
            "instructing and instructed agent BICs are needed",
            [FieldError("/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[0]/InstgAgt", "required")],
        )
    requests = [
        CancellationRequest(
            cancellation_id=f"{assignment_id[:30]}-{i}",
            reason_code=reason_code,
            original_uetr=t.order.uetr,
            original_msg_id=message.msg_id,
            original_msg_name=message.message_id,
            original_instruction_id=t.order.instruction_id,
            original_end_to_end_id=t.order.end_to_end_id,
            original_tx_id=t.tx_id,
            original_amount=t.order.amount,
            original_settlement_date=t.settlement_date,
            reason_text=reason_text,
        )
        for i, t in enumerate(message.transactions)
    ]
    return build_camt056(
        requests,
        assignment_id=assignment_id,
        assigner_bic=assigner,
        assignee_bic=assignee,
        created=created,
    )
