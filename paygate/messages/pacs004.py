"""pacs.004 payment return, in and out.

Built as pacs.004.001.09 (the CBPR+ generation). No official XSD is obtainable from PyPI
(schemas/README.md): the builder checks the structure itself and validates by XSD as
soon as ``schemas/iso20022/pacs.004.001.09.xsd`` exists. The parser reads any version.
The original UETR travels unchanged in ``OrgnlUETR``: it is what ties the return to the
payment in reconciliation.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import ValidationError

from paygate.domain import Money
from paygate.errors import FieldError, SchemaInvalid, UnsupportedMessage
from paygate.messages.mx import (
    Builder,
    Reader,
    format_datetime,
    group_header,
    model_error,
    serialize,
)
from paygate.messages.structure import MAX_TEXT, finish, max_length, require
from paygate.messages.xsd import IsoDocument, read_iso

MESSAGE_ID = "pacs.004.001.09"
CHARGE_BEARERS = {"DEBT", "CRED", "SHAR", "SLEV"}


@dataclass(frozen=True)
class ReturnTx:
    return_id: str
    returned_amount: Money
    settlement_date: dt.date
    reason_code: str  # ExternalReturnReason1Code, e.g. AC01, AC04, MS03
    original_uetr: uuid.UUID | None = None
    original_instruction_id: str | None = None
    original_end_to_end_id: str | None = None
    original_tx_id: str | None = None
    original_msg_id: str | None = None
    original_msg_name: str = "pacs.008.001.08"
    original_amount: Money | None = None
    reason_text: str | None = None
    charge_bearer: str | None = None
    instructing_agent_bic: str | None = None
    instructed_agent_bic: str | None = None


@dataclass(frozen=True)
class Pacs004Message:
    msg_id: str
    created: dt.datetime
    settlement_method: str
    returns: list[ReturnTx]
    message_id: str = MESSAGE_ID


def build_pacs004(
    returns: Sequence[ReturnTx],
    *,
    msg_id: str,
    created: dt.datetime,
    settlement_method: str = "INDA",
) -> bytes:
    if not returns:
        raise SchemaInvalid("a pacs.004 needs at least one transaction", [])
    b = Builder(MESSAGE_ID)
    doc = b.document()
    body = b.sub(doc, "PmtRtr")
    hdr = b.sub(body, "GrpHdr")
    b.sub(hdr, "MsgId", msg_id)
    b.sub(hdr, "CreDtTm", format_datetime(created))
    b.sub(hdr, "NbOfTxs", str(len(returns)))
    b.path(hdr, "SttlmInf/SttlmMtd", settlement_method)
    errors: list[FieldError] = []
    for i, r in enumerate(returns):
        tx = b.sub(body, "TxInf")
        b.sub(tx, "RtrId", r.return_id)
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
        b.amount(tx, "RtrdIntrBkSttlmAmt", r.returned_amount.value, r.returned_amount.currency)
        b.sub(tx, "IntrBkSttlmDt", r.settlement_date.isoformat())
        if r.charge_bearer is not None:
            if r.charge_bearer not in CHARGE_BEARERS:
                errors.append(FieldError(f"/returns/{i}/charge_bearer", "not a ChrgBr code"))
            b.sub(tx, "ChrgBr", r.charge_bearer)
        if r.instructing_agent_bic:
            b.path(tx, "InstgAgt/FinInstnId/BICFI", r.instructing_agent_bic)
        if r.instructed_agent_bic:
            b.path(tx, "InstdAgt/FinInstnId/BICFI", r.instructed_agent_bic)
        info = b.sub(tx, "RtrRsnInf")
        b.path(info, "Rsn/Cd" if len(r.reason_code) <= 4 else "Rsn/Prtry", r.reason_code)
        if r.reason_text:
            b.sub(info, "AddtlInf", r.reason_text[:105])
        if not (r.original_uetr or r.original_end_to_end_id or r.original_tx_id):
            errors.append(
                FieldError(f"/returns/{i}", "a return must name the original (UETR, E2E or TxId)")
            )
    where = "/Document/PmtRtr"
    for i, tx in enumerate(body.iterfind(f"{{{b.ns}}}TxInf")):
        require(
            tx,
            b.ns,
            f"{where}/TxInf[{i}]",
            ("RtrId", "RtrdIntrBkSttlmAmt", "IntrBkSttlmDt", "RtrRsnInf/Rsn"),
            errors,
        )
    max_length(body, b.ns, where, MAX_TEXT, errors)
    finish(doc, MESSAGE_ID, errors)
    return serialize(doc)


def parse_pacs004(data: bytes) -> Pacs004Message:
    return read_pacs004(read_iso(data))


def read_pacs004(iso: IsoDocument) -> Pacs004Message:
    if iso.kind != "pacs.004":
        raise UnsupportedMessage(f"expected pacs.004, got {iso.message_id}")
    root = Reader(iso.body, iso.namespace, "/Document/PmtRtr")
    hdr, created = group_header(root)
    group_date = hdr.date("IntrBkSttlmDt")
    group_msg = hdr.text("OrgnlGrpInf/OrgnlMsgId") or root.text("OrgnlGrpInf/OrgnlMsgId")
    returns = []
    for tx in root.children("TxInf"):
        try:
            returns.append(_read(tx, group_date, group_msg))
        except ValidationError as exc:
            raise model_error(tx.where, exc) from None
    if not returns:
        raise SchemaInvalid(
            "pacs.004 has no TxInf", [FieldError(root.where + "/TxInf", "required")]
        )
    return Pacs004Message(
        msg_id=hdr.required("MsgId"),
        created=created,
        settlement_method=hdr.text("SttlmInf/SttlmMtd") or "",
        returns=returns,
        message_id=iso.message_id,
    )


def _read(tx: Reader, group_date: dt.date | None, group_msg: str | None) -> ReturnTx:
    amount = tx.amount("RtrdIntrBkSttlmAmt")
    if amount is None:
        raise SchemaInvalid(
            "missing RtrdIntrBkSttlmAmt",
            [FieldError(tx.where + "/RtrdIntrBkSttlmAmt", "required")],
        )
    date = tx.date("IntrBkSttlmDt") or group_date
    if date is None:
        raise SchemaInvalid(
            "missing IntrBkSttlmDt", [FieldError(tx.where + "/IntrBkSttlmDt", "required")]
        )
    uetr_text = tx.text("OrgnlUETR")
    try:
        uetr = uuid.UUID(uetr_text) if uetr_text else None
    except ValueError:
        raise SchemaInvalid(
            "OrgnlUETR is not a UUID", [FieldError(tx.where + "/OrgnlUETR", "not a UUID")]
        ) from None
    original = tx.amount("OrgnlIntrBkSttlmAmt")
    return ReturnTx(
        return_id=tx.text("RtrId") or tx.text("TxId") or "NOTPROVIDED",
        returned_amount=Money(value=amount[0], currency=amount[1]),
        settlement_date=date,
        reason_code=tx.text("RtrRsnInf/Rsn/Cd") or tx.text("RtrRsnInf/Rsn/Prtry") or "NARR",
        original_uetr=uuid.UUID(str(uetr)) if uetr else None,
        original_instruction_id=tx.text("OrgnlInstrId"),
        original_end_to_end_id=tx.text("OrgnlEndToEndId"),
        original_tx_id=tx.text("OrgnlTxId"),
        original_msg_id=tx.text("OrgnlGrpInf/OrgnlMsgId") or group_msg,
        original_msg_name=tx.text("OrgnlGrpInf/OrgnlMsgNmId") or "pacs.008.001.08",
        original_amount=Money(value=original[0], currency=original[1]) if original else None,
        reason_text=" ".join(tx.texts("RtrRsnInf/AddtlInf")) or None,
        charge_bearer=tx.text("ChrgBr"),
        instructing_agent_bic=tx.text("InstgAgt/FinInstnId/BICFI"),
        instructed_agent_bic=tx.text("InstdAgt/FinInstnId/BICFI"),
    )
