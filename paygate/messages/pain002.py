"""pain.002.001.12 customer payment status report (out): the answer to an upstream pain.001.

Statuses are grouped by original payment information block, in the order first seen.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from paygate.errors import FieldError, SchemaInvalid
from paygate.messages.mx import Builder, format_datetime, serialize
from paygate.messages.xsd import IsoDocument, default_registry

MESSAGE_ID = "pain.002.001.12"


@dataclass(frozen=True)
class ItemStatus:
    payment_info_id: str
    status: str  # ACCP, ACSC, RJCT, PDNG, ...
    instruction_id: str | None = None
    end_to_end_id: str | None = None
    uetr: uuid.UUID | None = None
    reason_code: str | None = None
    reason_text: str | None = None


def build_pain002(
    statuses: Sequence[ItemStatus],
    *,
    msg_id: str,
    created: dt.datetime,
    original_msg_id: str,
    group_status: str | None = None,
    original_msg_name: str = "pain.001.001.09",
    validate: bool = True,
) -> bytes:
    """One status report for the items of one original pain.001; XSD-validated."""
    if not statuses and group_status is None:
        raise SchemaInvalid(
            "a pain.002 needs a group status or item statuses",
            [FieldError("/statuses", "empty and no group status")],
        )
    b = Builder(MESSAGE_ID)
    doc = b.document()
    body = b.sub(doc, "CstmrPmtStsRpt")
    hdr = b.sub(body, "GrpHdr")
    b.sub(hdr, "MsgId", msg_id)
    b.sub(hdr, "CreDtTm", format_datetime(created))
    grp = b.sub(body, "OrgnlGrpInfAndSts")
    b.sub(grp, "OrgnlMsgId", original_msg_id)
    b.sub(grp, "OrgnlMsgNmId", original_msg_name)
    b.sub(grp, "OrgnlNbOfTxs", str(len(statuses)))
    b.opt(grp, "GrpSts", group_status)
    blocks: dict[str, list[ItemStatus]] = {}
    for st in statuses:
        blocks.setdefault(st.payment_info_id, []).append(st)
    for pmt_id, items in blocks.items():
        pmt = b.sub(body, "OrgnlPmtInfAndSts")
        b.sub(pmt, "OrgnlPmtInfId", pmt_id)
        for st in items:
            tx = b.sub(pmt, "TxInfAndSts")
            b.opt(tx, "OrgnlInstrId", st.instruction_id)
            b.opt(tx, "OrgnlEndToEndId", st.end_to_end_id)
            b.opt(tx, "OrgnlUETR", str(st.uetr) if st.uetr else None)
            b.sub(tx, "TxSts", st.status)
            if st.reason_code or st.reason_text:
                info = b.sub(tx, "StsRsnInf")
                if st.reason_code:
                    tag = "Rsn/Cd" if len(st.reason_code) <= 4 else "Rsn/Prtry"
                    b.path(info, tag, st.reason_code[:35])
                if st.reason_text:
                    for start in range(0, min(len(st.reason_text), 210), 105):
                        b.sub(info, "AddtlInf", st.reason_text[start : start + 105])
    if validate:
        default_registry().validate(IsoDocument(doc, None, MESSAGE_ID))
    return serialize(doc)
