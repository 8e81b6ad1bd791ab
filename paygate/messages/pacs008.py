"""pacs.008.001.08 FI-to-FI customer credit transfer: canonical orders <-> XML.

One message may carry many transactions. ``TxId`` is the reference the channel
de-duplicates on, so the caller chooses it per transaction; the UETR travels with
each order unchanged.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from lxml import etree
from pydantic import ValidationError

from paygate.domain import Agent, Money, PaymentOrder, Priority
from paygate.errors import FieldError, SchemaInvalid, UnsupportedMessage
from paygate.messages.extras import TIME_CODES, Charge, TxExtras
from paygate.messages.mx import (
    Builder,
    ChildIndex,
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
    read_remittance,
    write_account,
    write_agent,
    write_party,
    write_remittance,
)
from paygate.messages.recurring_ids import agent_for_bic
from paygate.messages.xsd import IsoDocument, default_registry, read_iso

MESSAGE_ID = "pacs.008.001.08"
PURPOSE_CODE = re.compile(r"^[A-Z0-9]{4}$")
SETTLEMENT_METHODS = {"INDA", "INGA", "COVE", "CLRG"}
_PRIORITY_OUT = {Priority.HIGH: "HIGH", Priority.URGENT: "URGT"}
_PRIORITY_IN = {"HIGH": Priority.HIGH, "URGT": Priority.URGENT}


@dataclass(frozen=True)
class Pacs008Transaction:
    order: PaymentOrder
    tx_id: str | None
    settlement_date: dt.date | None
    instructing_agent_bic: str | None
    instructed_agent_bic: str | None
    extras: TxExtras = field(default_factory=TxExtras)


@dataclass(frozen=True)
class Pacs008Message:
    msg_id: str
    created: dt.datetime
    settlement_method: str
    transactions: list[Pacs008Transaction]
    message_id: str = MESSAGE_ID  # the version actually read, e.g. pacs.008.001.07

    @property
    def orders(self) -> list[PaymentOrder]:
        return [t.order for t in self.transactions]


_HEAD = (
    "FIToFICstmrCdtTrf",
    "FIToFICstmrCdtTrf/GrpHdr/MsgId",
    "FIToFICstmrCdtTrf/GrpHdr/CreDtTm",
    "FIToFICstmrCdtTrf/GrpHdr/NbOfTxs",
    "FIToFICstmrCdtTrf/GrpHdr/SttlmInf",
    "FIToFICstmrCdtTrf/GrpHdr/SttlmInf/SttlmMtd",
)


def _tx_head(instr: bool, category: bool) -> tuple[str, ...]:
    return (
        "CdtTrfTxInf",
        *(["CdtTrfTxInf/PmtId/InstrId"] if instr else []),
        "CdtTrfTxInf/PmtId/EndToEndId",
        "CdtTrfTxInf/PmtId/TxId",
        "CdtTrfTxInf/PmtId/UETR",
        *(["CdtTrfTxInf/PmtTpInf/CtgyPurp/Prtry"] if category else []),
        "CdtTrfTxInf/IntrBkSttlmAmt",
        "CdtTrfTxInf/IntrBkSttlmDt",
    )


_TX_HEADS = {(i, c): _tx_head(i, c) for i in (False, True) for c in (False, True)}


def build_pacs008(
    orders: Sequence[PaymentOrder],
    *,
    msg_id: str,
    created: dt.datetime,
    tx_ids: Sequence[str],
    settlement_date: dt.date,
    instructing_agent_bic: str | None = None,
    instructed_agent_bic: str | None = None,
    settlement_method: str = "CLRG",
    validate: bool = True,
    extras: Sequence[TxExtras | None] | None = None,
) -> bytes:
    """Build one pacs.008 with a transaction per order; XSD-validated unless told not to.

    ``extras`` (one per order, or None) carries what the order cannot: instructed amount,
    exchange rate, charges, instructions; the first one's reimbursement agents go to
    ``GrpHdr/SttlmInf``.
    """
    if not orders:
        raise SchemaInvalid("a pacs.008 needs at least one transaction", [])
    if len(tx_ids) != len(orders):
        raise SchemaInvalid(
            "one TxId per order is required", [FieldError("/tx_ids", "length differs from orders")]
        )
    if settlement_method not in SETTLEMENT_METHODS:
        raise SchemaInvalid(
            f"unknown settlement method {settlement_method}",
            [FieldError("/settlement_method", "must be INDA, INGA, COVE or CLRG")],
        )
    b = Builder(MESSAGE_ID)
    doc, (body, msg, cre, nb, sttlm, mtd) = b.skeleton(_HEAD)
    msg.text = msg_id
    cre.text = format_datetime(created)
    nb.text = str(len(orders))
    mtd.text = settlement_method
    if extras is not None and len(extras) != len(orders):
        raise SchemaInvalid(
            "one extras entry per order is required",
            [FieldError("/extras", "length differs from orders")],
        )
    first = extras[0] if extras else None
    if first is not None:
        if first.instructing_reimbursement_agent is not None:
            write_agent(b, sttlm, "InstgRmbrsmntAgt", first.instructing_reimbursement_agent)
        if first.instructed_reimbursement_agent is not None:
            write_agent(b, sttlm, "InstdRmbrsmntAgt", first.instructed_reimbursement_agent)
    for index, (order, tx_id) in enumerate(zip(orders, tx_ids, strict=True)):
        _write_transaction(
            b,
            body,
            order,
            tx_id,
            settlement_date,
            instructing_agent_bic,
            instructed_agent_bic,
            index,
            extras[index] if extras else None,
        )
    if validate:
        default_registry().validate(IsoDocument(doc, None, MESSAGE_ID))
    return serialize(doc)


def _write_transaction(
    b: Builder,
    body: etree._Element,
    order: PaymentOrder,
    tx_id: str,
    settlement_date: dt.date,
    instructing_bic: str | None,
    instructed_bic: str | None,
    index: int,
    extras: TxExtras | None = None,
) -> None:
    # PmtId, PmtTpInf and the settlement amount and date as one prebuilt fragment.
    has_instr = order.instruction_id is not None
    category = order.business_category
    nodes = b.tree(body, _TX_HEADS[has_instr, bool(category)])
    tx = nodes[0]
    if has_instr:
        nodes[1].text = order.instruction_id
    e2e, txid, uetr, *rest = nodes[1 + has_instr :]
    e2e.text = order.end_to_end_id
    txid.text = tx_id
    uetr.text = str(order.uetr)
    if category:
        rest[0].text = category
    amount, date = rest[-2:]
    amount.text = format(order.amount.value, "f")
    amount.set("Ccy", order.amount.currency)
    date.text = settlement_date.isoformat()
    if order.priority in _PRIORITY_OUT:
        b.sub(tx, "SttlmPrty", _PRIORITY_OUT[order.priority])
    if extras:
        _write_extras_head(b, tx, extras, order.charge_bearer.value, instructing_bic)
    else:
        b.sub(tx, "ChrgBr", order.charge_bearer.value)
    if instructing_bic:
        b.path(tx, "InstgAgt/FinInstnId/BICFI", instructing_bic)
    if instructed_bic:
        b.path(tx, "InstdAgt/FinInstnId/BICFI", instructed_bic)
    for n, agent in enumerate(order.intermediary_agents, start=1):
        write_agent(b, tx, f"IntrmyAgt{n}", agent)
    write_party(b, tx, "Dbtr", order.debtor)
    write_account(b, tx, "DbtrAcct", order.debtor_account)
    write_agent(b, tx, "DbtrAgt", _agent_or(order.debtor_agent, instructing_bic, index, "debtor"))
    write_agent(
        b, tx, "CdtrAgt", _agent_or(order.creditor_agent, instructed_bic, index, "creditor")
    )
    write_party(b, tx, "Cdtr", order.creditor)
    write_account(b, tx, "CdtrAcct", order.creditor_account)
    if extras:
        for text in extras.for_creditor_agent:
            b.sub(b.sub(tx, "InstrForCdtrAgt"), "InstrInf", text)
        for text in extras.for_next_agent:
            b.sub(b.sub(tx, "InstrForNxtAgt"), "InstrInf", text)
    if order.purpose:
        b.path(tx, "Purp/Cd", order.purpose)
    if order.remittance is not None:
        write_remittance(b, tx, order.remittance)


def _write_extras_head(
    b: Builder, tx: etree._Element, extras: TxExtras, charge_bearer: str, default_bic: str | None
) -> None:
    # CreditTransferTransaction39 order: SttlmTmReq, InstdAmt, XchgRate, ChrgBr, ChrgsInf,
    # PrvsInstgAgt1 (then InstgAgt, written by the caller).
    if extras.settlement_times:
        req = b.sub(tx, "SttlmTmReq")
        for code, time in extras.settlement_times:
            b.sub(req, TIME_CODES[code], time)
    if extras.instructed_amount is not None:
        b.amount(tx, "InstdAmt", extras.instructed_amount.value, extras.instructed_amount.currency)
    if extras.exchange_rate is not None:
        b.sub(tx, "XchgRate", extras.exchange_rate)
    b.sub(tx, "ChrgBr", charge_bearer)
    for charge in extras.charges:
        node = b.sub(tx, "ChrgsInf")
        b.amount(node, "Amt", charge.amount.value, charge.amount.currency)
        bic = charge.agent_bic or default_bic
        if bic is None:
            raise SchemaInvalid(
                "a charge needs the agent that took it",
                [FieldError("/extras/charges", "agent BIC or instructing agent required")],
            )
        b.path(node, "Agt/FinInstnId/BICFI", bic)
    if extras.previous_instructing_agent:
        b.path(tx, "PrvsInstgAgt1/FinInstnId/BICFI", extras.previous_instructing_agent)


def _read_extras(tx: Reader, hdr: Reader, instructed_bic: str | None) -> TxExtras:
    times = []
    req = tx.child("SttlmTmReq")
    if req is not None:
        by_tag = {tag: code for code, tag in TIME_CODES.items()}
        for node in req.element:
            local = etree.QName(node).localname
            if local in by_tag and node.text:
                times.append((by_tag[local], node.text.strip()))
    instd = tx.amount("InstdAmt")
    charges = []
    for node in tx.children("ChrgsInf"):
        amount = node.amount("Amt")
        if amount is None:
            continue
        bic = node.text("Agt/FinInstnId/BICFI") or node.text("Agt/FinInstnId/BIC")
        charges.append(
            Charge(
                Money(value=amount[0], currency=amount[1]),
                bic,
                receivers=bool(bic) and bic == instructed_bic,
            )
        )
    return TxExtras(
        instructed_amount=Money(value=instd[0], currency=instd[1]) if instd else None,
        exchange_rate=tx.text("XchgRate"),
        charges=tuple(charges),
        for_creditor_agent=tuple(t for t in tx.texts("InstrForCdtrAgt/InstrInf") if t),
        for_next_agent=tuple(t for t in tx.texts("InstrForNxtAgt/InstrInf") if t),
        previous_instructing_agent=tx.text("PrvsInstgAgt1/FinInstnId/BICFI"),
        settlement_times=tuple(times),
        instructing_reimbursement_agent=read_agent(hdr.child("SttlmInf/InstgRmbrsmntAgt")),
        instructed_reimbursement_agent=read_agent(hdr.child("SttlmInf/InstdRmbrsmntAgt")),
    )


def _agent_or(agent: Agent | None, bic: str | None, index: int, role: str) -> Agent:
    # pacs.008.001.08 makes DbtrAgt and CdtrAgt mandatory; the adjacent hop is the
    # only honest default when the order does not name one.
    if agent is not None:
        return agent
    if bic is not None:
        return agent_for_bic(bic)
    raise SchemaInvalid(
        f"transaction {index} has no {role} agent",
        [FieldError(f"/orders/{index}/{role}_agent", "required in pacs.008")],
    )


def parse_pacs008(data: bytes) -> Pacs008Message:
    """Read any pacs.008 version; the canonical fields that exist in it are filled."""
    return read_pacs008(read_iso(data))


def read_pacs008(iso: IsoDocument) -> Pacs008Message:
    if iso.kind != "pacs.008":
        raise UnsupportedMessage(f"expected pacs.008, got {iso.message_id}")
    # Indexed: a transaction is read path by path, most of them absent (see ChildIndex).
    root = Reader(iso.body, iso.namespace, "/Document/FIToFICstmrCdtTrf", ChildIndex())
    hdr, created = group_header(root)
    group_date = hdr.date("IntrBkSttlmDt")
    group_instg = hdr.text("InstgAgt/FinInstnId/BICFI") or hdr.text("InstgAgt/FinInstnId/BIC")
    group_instd = hdr.text("InstdAgt/FinInstnId/BICFI") or hdr.text("InstdAgt/FinInstnId/BIC")
    transactions = []
    for tx in root.children("CdtTrfTxInf"):
        instg = tx.text("InstgAgt/FinInstnId/BICFI") or tx.text("InstgAgt/FinInstnId/BIC")
        instd = tx.text("InstdAgt/FinInstnId/BICFI") or tx.text("InstdAgt/FinInstnId/BIC")
        transactions.append(
            Pacs008Transaction(
                order=_read_order(tx),
                tx_id=tx.text("PmtId/TxId"),
                settlement_date=tx.date("IntrBkSttlmDt") or group_date,
                instructing_agent_bic=instg or group_instg,
                instructed_agent_bic=instd or group_instd,
                extras=_read_extras(tx, hdr, instd or group_instd),
            )
        )
    if not transactions:
        raise SchemaInvalid(
            "pacs.008 has no transaction", [FieldError(root.where + "/CdtTrfTxInf", "required")]
        )
    return Pacs008Message(
        msg_id=hdr.required("MsgId"),
        created=created,
        settlement_method=hdr.text("SttlmInf/SttlmMtd") or "",
        transactions=transactions,
        message_id=iso.message_id,
    )


def _read_order(tx: Reader) -> PaymentOrder:
    try:
        return _read_order_fields(tx)
    except ValidationError as exc:
        raise model_error(tx.where, exc) from None


def _read_order_fields(tx: Reader) -> PaymentOrder:
    amount = tx.amount("IntrBkSttlmAmt")
    if amount is None:
        raise SchemaInvalid(
            "missing IntrBkSttlmAmt", [FieldError(tx.where + "/IntrBkSttlmAmt", "required")]
        )
    debtor = tx.child("Dbtr")
    creditor = tx.child("Cdtr")
    if debtor is None or creditor is None:
        raise SchemaInvalid(
            "missing Dbtr or Cdtr", [FieldError(tx.where, "Dbtr and Cdtr are required")]
        )
    intermediaries = [
        a for a in (read_agent(tx.child(f"IntrmyAgt{n}")) for n in (1, 2, 3)) if a is not None
    ]
    fields: dict[str, object] = {
        "amount": Money(value=amount[0], currency=amount[1]),
        "debtor": read_party(debtor),
        "debtor_account": read_account(tx.child("DbtrAcct")) or {"other": "NOTPROVIDED"},
        "debtor_agent": read_agent(tx.child("DbtrAgt")),
        "creditor": read_party(creditor),
        "creditor_account": read_account(tx.child("CdtrAcct")) or {"other": "NOTPROVIDED"},
        "creditor_agent": read_agent(tx.child("CdtrAgt")),
        "intermediary_agents": intermediaries,
        "end_to_end_id": tx.text("PmtId/EndToEndId") or "NOTPROVIDED",
        "instruction_id": tx.text("PmtId/InstrId"),
        "remittance": read_remittance(tx.child("RmtInf")),
        "priority": _PRIORITY_IN.get(tx.text("SttlmPrty") or "", Priority.NORMAL),
        "business_category": tx.text("PmtTpInf/CtgyPurp/Prtry"),
    }
    charge_bearer = tx.text("ChrgBr")
    if charge_bearer:
        fields["charge_bearer"] = charge_bearer
    uetr = tx.text("PmtId/UETR")
    if uetr:
        fields["uetr"] = uetr
    purpose = tx.text("Purp/Cd") or tx.text("Purp/Prtry")
    if purpose and PURPOSE_CODE.match(purpose):
        fields["purpose"] = purpose
    elif purpose:
        # Keep what the model cannot hold as a code rather than refusing the payment.
        fields["metadata"] = {"purpose_raw": purpose}
    return PaymentOrder.model_validate(fields)
