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
from functools import lru_cache

from lxml import etree

from paygate.errors import FieldError, SchemaInvalid, UnsupportedMessage
from paygate.messages.mx import Builder, format_datetime, iso_datetime, serialize
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


# A report is read in one pass over the children of each element read, collected by local
# name, instead of a path lookup through the generic Reader per field (that cost ~20 us a
# transaction, most of reading a report; this ~8). The values and errors are those of the
# paths read before ("TxSts", "StsRsnInf/Rsn/Cd", ...): the first element of each name at
# each step, its text stripped (None when absent or without text), and every
# StsRsnInf/AddtlInf. There is no pacs.002 XSD (see above): nothing is validated on the way in.
_WHERE = "/Document/FIToFIPmtStsRpt"
_NAMES_READ = (
    "OrgnlGrpInfAndSts",
    "TxInfAndSts",
    "OrgnlGrpInf",
    "OrgnlMsgId",
    "GrpSts",
    "OrgnlInstrId",
    "OrgnlEndToEndId",
    "OrgnlTxId",
    "OrgnlUETR",
    "TxSts",
    "StsRsnInf",
    "Rsn",
    "Cd",
    "Prtry",
    "AddtlInf",
    "AccptncDtTm",
)
_Children = dict[str, list[etree._Element]]


@lru_cache(maxsize=64)
def _local_names(namespace: str) -> dict[str, str]:
    """``{ns}TxSts`` -> ``TxSts`` for the elements read, in the report's namespace."""
    return {f"{{{namespace}}}{name}": name for name in _NAMES_READ}


def _children(element: etree._Element, names: dict[str, str]) -> _Children:
    found: _Children = {}
    for child in element:
        # Comments and processing instructions have a function as tag: never a name read.
        name = names.get(child.tag)
        if name is None:
            continue
        same = found.get(name)
        if same is None:
            found[name] = [child]
        else:
            same.append(child)
    return found


def _text(found: _Children, name: str) -> str | None:
    elements = found.get(name)
    if elements is None:
        return None
    text = elements[0].text
    return None if text is None else text.strip()


def read_pacs002(iso: IsoDocument) -> list[TxStatus]:
    if iso.kind != "pacs.002":
        raise UnsupportedMessage(f"expected pacs.002, got {iso.message_id}")
    names = _local_names(iso.namespace)
    report = _children(iso.body, names)
    groups = report.get("OrgnlGrpInfAndSts")
    group = _children(groups[0], names) if groups else None
    group_msg_id = _text(group, "OrgnlMsgId") if group is not None else None
    statuses = [
        _tx_status(_children(tx, names), names, group, group_msg_id, index)
        for index, tx in enumerate(report.get("TxInfAndSts", ()))
    ]
    if statuses or group is None:
        return statuses
    status = _text(group, "GrpSts")
    if not status:
        # A report with only a group header is schema-valid and says nothing: an empty list.
        return statuses
    reason, text = _reason(group, names)
    return [
        TxStatus(
            original_end_to_end_id=None,
            original_tx_id=None,
            original_uetr=None,
            status=status,
            reason_code=reason,
            reason_text=text,
            original_msg_id=group_msg_id,
            group_level=True,
        )
    ]


def _tx_status(
    tx: _Children,
    names: dict[str, str],
    group: _Children | None,
    group_msg_id: str | None,
    index: int,
) -> TxStatus:
    where = f"{_WHERE}/TxInfAndSts[{index}]"
    status = _text(tx, "TxSts")
    reason, text = _reason(tx, names)
    if status is None and group is not None:
        # A transaction without its own status inherits the group's.
        status = _text(group, "GrpSts")
        if reason is None:
            reason, text = _reason(group, names)
    if not status:
        raise SchemaInvalid(
            "transaction status missing", [FieldError(where + "/TxSts", "required")]
        )
    original = tx.get("OrgnlGrpInf")
    msg_id = _text(_children(original[0], names), "OrgnlMsgId") if original else None
    return TxStatus(
        original_end_to_end_id=_text(tx, "OrgnlEndToEndId"),
        original_tx_id=_text(tx, "OrgnlTxId"),
        original_uetr=_uuid(tx, "OrgnlUETR", where),
        status=status,
        reason_code=reason,
        reason_text=text,
        accepted_at=_datetime(tx, "AccptncDtTm", where),
        original_instruction_id=_text(tx, "OrgnlInstrId"),
        original_msg_id=msg_id or group_msg_id,
    )


def _reason(found: _Children, names: dict[str, str]) -> tuple[str | None, str | None]:
    """The code of the first StsRsnInf's first Rsn (Cd, else Prtry) and the AddtlInf texts
    of every StsRsnInf, joined."""
    infos = found.get("StsRsnInf")
    if infos is None:
        return None, None
    code = None
    texts = []
    for index, info in enumerate(infos):
        parts = _children(info, names)
        if index == 0:
            rsn = parts.get("Rsn")
            if rsn is not None:
                choice = _children(rsn[0], names)
                code = _text(choice, "Cd") or _text(choice, "Prtry")
        for element in parts.get("AddtlInf", ()):
            value = (element.text or "").strip()
            if value:
                texts.append(value)
    return code, (" ".join(texts) or None)


def _uuid(found: _Children, name: str, where: str) -> uuid.UUID | None:
    value = _text(found, name)
    if value is None:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise SchemaInvalid(
            f"{name} is not a UUID", [FieldError(f"{where}/{name}", "not a UUID")]
        ) from None


def _datetime(found: _Children, name: str, where: str) -> dt.datetime | None:
    value = _text(found, name)
    return None if value is None else iso_datetime(value, f"{where}/{name}", name)


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
