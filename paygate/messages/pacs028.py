"""pacs.028 FI-to-FI payment status request: how paygate resolves an unknown outcome.

Built as pacs.028.001.03 (the generation CBPR+ uses); validated only when the
registry holds its official XSD (see schemas/README.md).
"""

from __future__ import annotations

import datetime as dt
import uuid

from paygate.errors import FieldError, SchemaInvalid
from paygate.messages.mx import Builder, format_datetime, serialize
from paygate.messages.xsd import IsoDocument, default_registry

MESSAGE_ID = "pacs.028.001.03"


def build_pacs028(
    *,
    msg_id: str,
    created: dt.datetime,
    tx_id: str,
    uetr: uuid.UUID | None,
    end_to_end_id: str | None,
    original_msg_id: str | None = None,
    original_msg_name: str = "pacs.008.001.08",
    instruction_id: str | None = None,
) -> bytes:
    """Ask the channel for the status of one transaction, by every reference we hold."""
    if not tx_id:
        raise SchemaInvalid("tx_id is required", [FieldError("/tx_id", "required")])
    b = Builder(MESSAGE_ID)
    doc = b.document()
    body = b.sub(doc, "FIToFIPmtStsReq")
    hdr = b.sub(body, "GrpHdr")
    b.sub(hdr, "MsgId", msg_id)
    b.sub(hdr, "CreDtTm", format_datetime(created))
    tx = b.sub(body, "TxInf")
    if original_msg_id:
        grp = b.sub(tx, "OrgnlGrpInf")
        b.sub(grp, "OrgnlMsgId", original_msg_id)
        b.sub(grp, "OrgnlMsgNmId", original_msg_name)
    b.opt(tx, "OrgnlInstrId", instruction_id)
    b.opt(tx, "OrgnlEndToEndId", end_to_end_id)
    b.sub(tx, "OrgnlTxId", tx_id)
    b.opt(tx, "OrgnlUETR", str(uetr) if uetr else None)
    registry = default_registry()
    if registry.has(MESSAGE_ID):
        registry.validate(IsoDocument(doc, None, MESSAGE_ID))
    return serialize(doc)
