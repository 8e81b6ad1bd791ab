"""pacs.002 FI-to-FI payment status report: per-transaction and group-level status.

Built as pacs.002.001.10 (the CBPR+ generation). No official pacs.002 XSD could be
obtained from PyPI (see schemas/README.md), so the builder validates only when the
registry holds one; the parser reads any version.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from paygate.errors import FieldError, SchemaInvalid, UnsupportedMessage
from paygate.messages.mx import Builder, Reader, format_datetime, serialize
from paygate.messages.xsd import IsoDocument, default_registry, read_iso

MESSAGE_ID = "pacs.002.001.10"
# ExternalPaymentTransactionStatus1Code values paygate acts on; others pass through.
FINAL_OK = {"ACSC", "ACCC"}
ACCEPTED = {"ACSP", "ACTC", "ACCP", "ACWC", "ACFC", "ACSC", "ACCC", "ACWP"}
REJECTED = {"RJCT", "CANC"}
PENDING = {"PDNG", "RCVD"}


@dataclass(frozen=True)
class TxStatus:
    original_end_to_end_id: str | None
    original_tx_id: str | None
    original_uetr: uuid.UUID | None
    status: str
    reason_code: str | None = None
    reason_text: str | None = None
    accepted_at: dt.datetime | None = None
    original_instruction_id: str | None = None
    original_msg_id: str | None = None
    group_level: bool = False  # True when the status came from OrgnlGrpInfAndSts


def parse_pacs002(data: bytes) -> list[TxStatus]:
    return read_pacs002(read_iso(data))


def read_pacs002(iso: IsoDocument) -> list[TxStatus]:
    if iso.kind != "pacs.002":
        raise UnsupportedMessage(f"expected pacs.002, got {iso.message_id}")
    root = Reader(iso.body, iso.namespace, "/Document/FIToFIPmtStsRpt")
    group = root.child("OrgnlGrpInfAndSts")
    group_msg_id = group.text("OrgnlMsgId") if group else None
    statuses = []
    for tx in root.children("TxInfAndSts"):
        status = tx.text("TxSts")
        reason, text = _reason(tx)
        if status is None and group is not None:
            # A transaction without its own status inherits the group's.
            status = group.text("GrpSts")
            if reason is None:
                reason, text = _reason(group)
        if not status:
            raise SchemaInvalid(
                "transaction status missing", [FieldError(tx.where + "/TxSts", "required")]
            )
        statuses.append(
            TxStatus(
                original_end_to_end_id=tx.text("OrgnlEndToEndId"),
                original_tx_id=tx.text("OrgnlTxId"),
                original_uetr=_uuid(tx, "OrgnlUETR"),
                status=status,
                reason_code=reason,
                reason_text=text,
                accepted_at=tx.datetime("AccptncDtTm"),
                original_instruction_id=tx.text("OrgnlInstrId"),
                original_msg_id=tx.text("OrgnlGrpInf/OrgnlMsgId") or group_msg_id,
            )
        )
    if not statuses and group is not None and group.text("GrpSts"):
        reason, text = _reason(group)
        statuses.append(
            TxStatus(
                original_end_to_end_id=None,
                original_tx_id=None,
                original_uetr=None,
                status=group.required("GrpSts"),
                reason_code=reason,
                reason_text=text,
                original_msg_id=group_msg_id,
                group_level=True,
            )
        )
    # A report with only a group header is schema-valid and says nothing: an empty list.
    return statuses


def _reason(r: Reader) -> tuple[str | None, str | None]:
    code = r.text("StsRsnInf/Rsn/Cd") or r.text("StsRsnInf/Rsn/Prtry")
    texts = [t for t in r.texts("StsRsnInf/AddtlInf") if t]
    return code, (" ".join(texts) or None)


def _uuid(r: Reader, path: str) -> uuid.UUID | None:
    value = r.text(path)
    if value is None:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise SchemaInvalid(
            f"{path} is not a UUID", [FieldError(f"{r.where}/{path}", "not a UUID")]
        ) from None


def build_pacs002(
    statuses: Sequence[TxStatus],
    *,
    msg_id: str,
    created: dt.datetime,
    original_msg_id: str,
    original_msg_name: str = "pacs.008.001.08",
    group_status: str | None = None,
) -> bytes:
    """One status report for transactions of one original message."""
    b = Builder(MESSAGE_ID)
    doc = b.document()
    body = b.sub(doc, "FIToFIPmtStsRpt")
    hdr = b.sub(body, "GrpHdr")
    b.sub(hdr, "MsgId", msg_id)
    b.sub(hdr, "CreDtTm", format_datetime(created))
    if group_status is not None:
        grp = b.sub(body, "OrgnlGrpInfAndSts")
        b.sub(grp, "OrgnlMsgId", original_msg_id)
        b.sub(grp, "OrgnlMsgNmId", original_msg_name)
        b.sub(grp, "GrpSts", group_status)
    for st in statuses:
        if st.group_level:
            continue
        tx = b.sub(body, "TxInfAndSts")
        if group_status is None:
            grp = b.sub(tx, "OrgnlGrpInf")
            b.sub(grp, "OrgnlMsgId", st.original_msg_id or original_msg_id)
            b.sub(grp, "OrgnlMsgNmId", original_msg_name)
        b.opt(tx, "OrgnlInstrId", st.original_instruction_id)
        b.opt(tx, "OrgnlEndToEndId", st.original_end_to_end_id)
        b.opt(tx, "OrgnlTxId", st.original_tx_id)
        b.opt(tx, "OrgnlUETR", str(st.original_uetr) if st.original_uetr else None)
        b.sub(tx, "TxSts", st.status)
        if st.reason_code or st.reason_text:
            info = b.sub(tx, "StsRsnInf")
            if st.reason_code:
                b.path(info, "Rsn/Cd" if len(st.reason_code) <= 4 else "Rsn/Prtry", st.reason_code)
            if st.reason_text:
                for chunk in _chunks(st.reason_text, 105):
                    b.sub(info, "AddtlInf", chunk)
        if st.accepted_at is not None:
            b.sub(tx, "AccptncDtTm", format_datetime(st.accepted_at))
    registry = default_registry()
    if registry.has(MESSAGE_ID):
        registry.validate(IsoDocument(doc, None, MESSAGE_ID))
    return serialize(doc)


def _chunks(text: str, width: int) -> list[str]:
    return [text[i : i + width] for i in range(0, len(text), width)][:2]
