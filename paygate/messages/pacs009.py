"""pacs.009 financial institution credit transfer (core and cover), in and out.

Built as pacs.009.001.08 (the CBPR+ generation). No official XSD is obtainable from PyPI
(schemas/README.md): the builder checks the structure itself (``structure.py``) and
validates by XSD as soon as ``schemas/iso20022/pacs.009.001.08.xsd`` exists. The parser
reads any version. A cover payment (MT202COV) carries the underlying customer credit
transfer in ``UndrlygCstmrCdtTrf``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from lxml import etree
from pydantic import ValidationError

from paygate.domain import Account, Agent, Money, Party
from paygate.errors import FieldError, SchemaInvalid, UnsupportedMessage
from paygate.messages.extras import TIME_CODES
from paygate.messages.mx import (
    Builder,
    Reader,
    format_datetime,
    group_header,
    model_error,
    serialize,
)
from paygate.messages.mx_parties import (
    read_account,
    read_agent,
    read_party,
    write_account,
    write_agent,
    write_party,
)
from paygate.messages.structure import MAX_TEXT, finish, max_length, require
from paygate.messages.xsd import IsoDocument, read_iso

MESSAGE_ID = "pacs.009.001.08"
SETTLEMENT_METHODS = {"INDA", "INGA", "COVE", "CLRG"}


@dataclass(frozen=True)
class UnderlyingCustomer:
    """The customer transfer a cover payment settles (MT202COV sequence B)."""

    debtor: Party
    creditor: Party
    debtor_account: Account | None = None
    creditor_account: Account | None = None
    debtor_agent: Agent | None = None
    creditor_agent: Agent | None = None
    intermediary: Agent | None = None
    remittance: str | None = None
    instructed_amount: Money | None = None


@dataclass(frozen=True)
class FiTransfer:
    """One pacs.009 transaction: a bank-to-bank transfer."""

    amount: Money
    settlement_date: dt.date
    instruction_id: str
    end_to_end_id: str
    tx_id: str
    uetr: uuid.UUID
    debtor: Agent  # the ordering institution (Dbtr)
    creditor: Agent  # the beneficiary institution (Cdtr)
    instructing_agent_bic: str | None = None
    instructed_agent_bic: str | None = None
    debtor_agent: Agent | None = None
    creditor_agent: Agent | None = None
    intermediary: Agent | None = None
    instructions_for_creditor_agent: tuple[str, ...] = ()
    instructions_for_next_agent: tuple[str, ...] = ()
    underlying: UnderlyingCustomer | None = None
    settlement_times: tuple[tuple[str, str], ...] = ()  # (MT 13C code, ISO time)


@dataclass(frozen=True)
class Pacs009Message:
    msg_id: str
    created: dt.datetime
    settlement_method: str
    transfers: list[FiTransfer] = field(default_factory=list)
    message_id: str = MESSAGE_ID
    instructing_reimbursement_agent: Agent | None = None  # MT 53a
    instructed_reimbursement_agent: Agent | None = None  # MT 54a

    @property
    def is_cover(self) -> bool:
        return any(t.underlying is not None for t in self.transfers)


def build_pacs009(
    transfers: list[FiTransfer],
    *,
    msg_id: str,
    created: dt.datetime,
    settlement_method: str = "INDA",
    instructing_reimbursement_agent: Agent | None = None,
    instructed_reimbursement_agent: Agent | None = None,
) -> bytes:
    if not transfers:
        raise SchemaInvalid("a pacs.009 needs at least one transaction", [])
    if settlement_method not in SETTLEMENT_METHODS:
        raise SchemaInvalid(
            f"unknown settlement method {settlement_method}",
            [FieldError("/settlement_method", "must be INDA, INGA, COVE or CLRG")],
        )
    b = Builder(MESSAGE_ID)
    doc = b.document()
    body = b.sub(doc, "FICdtTrf")
    hdr = b.sub(body, "GrpHdr")
    b.sub(hdr, "MsgId", msg_id)
    b.sub(hdr, "CreDtTm", format_datetime(created))
    b.sub(hdr, "NbOfTxs", str(len(transfers)))
    sttlm = b.sub(hdr, "SttlmInf")
    b.sub(sttlm, "SttlmMtd", settlement_method)
    if instructing_reimbursement_agent is not None:
        write_agent(b, sttlm, "InstgRmbrsmntAgt", instructing_reimbursement_agent)
    if instructed_reimbursement_agent is not None:
        write_agent(b, sttlm, "InstdRmbrsmntAgt", instructed_reimbursement_agent)
    for t in transfers:
        _write(b, body, t)
    errors: list[FieldError] = []
    where = "/Document/FICdtTrf"
    require(body, b.ns, where, ("GrpHdr/MsgId", "GrpHdr/CreDtTm", "GrpHdr/SttlmInf"), errors)
    for i, tx in enumerate(body.iterfind(f"{{{b.ns}}}CdtTrfTxInf")):
        require(
            tx,
            b.ns,
            f"{where}/CdtTrfTxInf[{i}]",
            (
                "PmtId/EndToEndId",
                "PmtId/UETR",
                "IntrBkSttlmAmt",
                "IntrBkSttlmDt",
                "Dbtr/FinInstnId",
                "Cdtr/FinInstnId",
            ),
            errors,
        )
    max_length(body, b.ns, where, MAX_TEXT, errors)
    finish(doc, MESSAGE_ID, errors)
    return serialize(doc)


def _write(b: Builder, body: etree._Element, t: FiTransfer) -> None:
    tx = b.sub(body, "CdtTrfTxInf")
    pmt = b.sub(tx, "PmtId")
    b.sub(pmt, "InstrId", t.instruction_id)
    b.sub(pmt, "EndToEndId", t.end_to_end_id)
    b.sub(pmt, "TxId", t.tx_id)
    b.sub(pmt, "UETR", str(t.uetr))
    if t.underlying is not None:
        b.path(tx, "PmtTpInf/CtgyPurp/Cd", "COVS")
    b.amount(tx, "IntrBkSttlmAmt", t.amount.value, t.amount.currency)
    b.sub(tx, "IntrBkSttlmDt", t.settlement_date.isoformat())
    if t.settlement_times:
        req = b.sub(tx, "SttlmTmReq")
        for code, time in t.settlement_times:
            b.sub(req, TIME_CODES[code], time)
    if t.instructing_agent_bic:
        b.path(tx, "InstgAgt/FinInstnId/BICFI", t.instructing_agent_bic)
    if t.instructed_agent_bic:
        b.path(tx, "InstdAgt/FinInstnId/BICFI", t.instructed_agent_bic)
    if t.intermediary is not None:
        write_agent(b, tx, "IntrmyAgt1", t.intermediary)
    write_agent(b, tx, "Dbtr", t.debtor)
    if t.debtor_agent is not None:
        write_agent(b, tx, "DbtrAgt", t.debtor_agent)
    if t.creditor_agent is not None:
        write_agent(b, tx, "CdtrAgt", t.creditor_agent)
    write_agent(b, tx, "Cdtr", t.creditor)
    for text in t.instructions_for_creditor_agent:
        b.sub(b.sub(tx, "InstrForCdtrAgt"), "InstrInf", text)
    for text in t.instructions_for_next_agent:
        b.sub(b.sub(tx, "InstrForNxtAgt"), "InstrInf", text)
    u = t.underlying
    if u is not None:
        node = b.sub(tx, "UndrlygCstmrCdtTrf")
        write_party(b, node, "Dbtr", u.debtor)
        if u.debtor_account is not None:
            write_account(b, node, "DbtrAcct", u.debtor_account)
        if u.debtor_agent is not None:
            write_agent(b, node, "DbtrAgt", u.debtor_agent)
        if u.intermediary is not None:
            write_agent(b, node, "IntrmyAgt1", u.intermediary)
        if u.creditor_agent is not None:
            write_agent(b, node, "CdtrAgt", u.creditor_agent)
        write_party(b, node, "Cdtr", u.creditor)
        if u.creditor_account is not None:
            write_account(b, node, "CdtrAcct", u.creditor_account)
        if u.remittance:
            b.path(node, "RmtInf/Ustrd", u.remittance)
        if u.instructed_amount is not None:
            b.amount(node, "InstdAmt", u.instructed_amount.value, u.instructed_amount.currency)


def parse_pacs009(data: bytes) -> Pacs009Message:
    return read_pacs009(read_iso(data))


def read_pacs009(iso: IsoDocument) -> Pacs009Message:
    if iso.kind != "pacs.009":
        raise UnsupportedMessage(f"expected pacs.009, got {iso.message_id}")
    root = Reader(iso.body, iso.namespace, "/Document/FICdtTrf")
    hdr, created = group_header(root)
    group_date = hdr.date("IntrBkSttlmDt")
    transfers = []
    for tx in root.children("CdtTrfTxInf"):
        try:
            transfers.append(_read(tx, group_date))
        except ValidationError as exc:
            raise model_error(tx.where, exc) from None
    if not transfers:
        raise SchemaInvalid(
            "pacs.009 has no transaction", [FieldError(root.where + "/CdtTrfTxInf", "required")]
        )
    return Pacs009Message(
        msg_id=hdr.required("MsgId"),
        created=created,
        settlement_method=hdr.text("SttlmInf/SttlmMtd") or "",
        transfers=transfers,
        message_id=iso.message_id,
        instructing_reimbursement_agent=read_agent(hdr.child("SttlmInf/InstgRmbrsmntAgt")),
        instructed_reimbursement_agent=read_agent(hdr.child("SttlmInf/InstdRmbrsmntAgt")),
    )


def _need_agent(tx: Reader, tag: str) -> Agent:
    agent = read_agent(tx.child(tag))
    if agent is None:
        raise SchemaInvalid(f"missing {tag}", [FieldError(f"{tx.where}/{tag}", "required")])
    return agent


def _bic(tx: Reader, tag: str) -> str | None:
    return tx.text(tag + "/FinInstnId/BICFI") or tx.text(tag + "/FinInstnId/BIC")


def _read(tx: Reader, group_date: dt.date | None) -> FiTransfer:
    amount = tx.amount("IntrBkSttlmAmt")
    if amount is None:
        raise SchemaInvalid(
            "missing IntrBkSttlmAmt", [FieldError(tx.where + "/IntrBkSttlmAmt", "required")]
        )
    date = tx.date("IntrBkSttlmDt") or group_date
    if date is None:
        raise SchemaInvalid(
            "missing IntrBkSttlmDt", [FieldError(tx.where + "/IntrBkSttlmDt", "required")]
        )
    uetr_text = tx.text("PmtId/UETR")
    if not uetr_text:
        raise SchemaInvalid("missing UETR", [FieldError(tx.where + "/PmtId/UETR", "required")])
    try:
        uetr = uuid.UUID(uetr_text)
    except ValueError:
        raise SchemaInvalid(
            "UETR is not a UUID", [FieldError(tx.where + "/PmtId/UETR", "not a UUID")]
        ) from None
    underlying = None
    u = tx.child("UndrlygCstmrCdtTrf")
    if u is not None:
        dbtr, cdtr = u.child("Dbtr"), u.child("Cdtr")
        if dbtr is None or cdtr is None:
            raise SchemaInvalid(
                "underlying transfer needs Dbtr and Cdtr",
                [FieldError(u.where, "Dbtr and Cdtr are required")],
            )
        instd = u.amount("InstdAmt")
        underlying = UnderlyingCustomer(
            debtor=read_party(dbtr),
            creditor=read_party(cdtr),
            debtor_account=read_account(u.child("DbtrAcct")),
            creditor_account=read_account(u.child("CdtrAcct")),
            debtor_agent=read_agent(u.child("DbtrAgt")),
            creditor_agent=read_agent(u.child("CdtrAgt")),
            intermediary=read_agent(u.child("IntrmyAgt1")),
            remittance=" ".join(t for t in u.texts("RmtInf/Ustrd") if t) or None,
            instructed_amount=Money(value=instd[0], currency=instd[1]) if instd else None,
        )
    end_to_end = tx.text("PmtId/EndToEndId") or "NOTPROVIDED"
    times = []
    req = tx.child("SttlmTmReq")
    if req is not None:
        by_tag = {tag: code for code, tag in TIME_CODES.items()}
        for node in req.element:
            local = etree.QName(node).localname
            if local in by_tag and node.text:
                times.append((by_tag[local], node.text.strip()))
    return FiTransfer(
        amount=Money(value=amount[0], currency=amount[1]),
        settlement_date=date,
        instruction_id=tx.text("PmtId/InstrId") or end_to_end,
        end_to_end_id=end_to_end,
        tx_id=tx.text("PmtId/TxId") or end_to_end,
        uetr=uetr,
        debtor=_need_agent(tx, "Dbtr"),
        creditor=_need_agent(tx, "Cdtr"),
        instructing_agent_bic=_bic(tx, "InstgAgt"),
        instructed_agent_bic=_bic(tx, "InstdAgt"),
        debtor_agent=read_agent(tx.child("DbtrAgt")),
        creditor_agent=read_agent(tx.child("CdtrAgt")),
        intermediary=read_agent(tx.child("IntrmyAgt1")),
        instructions_for_creditor_agent=tuple(tx.texts("InstrForCdtrAgt/InstrInf")),
        instructions_for_next_agent=tuple(tx.texts("InstrForNxtAgt/InstrInf")),
        underlying=underlying,
        settlement_times=tuple(times),
    )
