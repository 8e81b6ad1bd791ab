"""pain.001.001.09 customer credit transfer initiation: one file -> many canonical orders.

The debtor, its account and agent, the requested execution date and (as a default) the
charge bearer come from each ``PmtInf``; the creditor side from each ``CdtTrfTxInf``.
A file that is not a pain.001, is unsafe or breaks its XSD raises; a transaction whose
content the canonical model refuses does not: it becomes an item carrying its errors,
each with the XML path of the offending element, so that a caller can reject the whole
file or accept the valid part.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from lxml import etree
from pydantic import ValidationError

from paygate.domain import Party, PaymentOrder, Priority, field_errors
from paygate.errors import FieldError, SchemaInvalid, UnsupportedMessage
from paygate.messages.mx import Builder, Reader, format_datetime, serialize
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
from paygate.messages.xsd import IsoDocument, default_registry, read_iso

MESSAGE_ID = "pain.001.001.09"
_BODY = "/Document/CstmrCdtTrfInitn"
_PRIORITY_IN = {"HIGH": Priority.HIGH}

# Canonical-model pointer prefix -> (level, XML path relative to PmtInf or CdtTrfTxInf).
# Longest prefix wins; the error then names the element the value came from.
_WHERE: dict[str, tuple[str, str]] = {
    "/amount": ("tx", "Amt/InstdAmt"),
    "/debtor": ("pmt", "Dbtr"),
    "/debtor_account": ("pmt", "DbtrAcct"),
    "/debtor_account/iban": ("pmt", "DbtrAcct/Id/IBAN"),
    "/debtor_agent": ("pmt", "DbtrAgt"),
    "/debtor_agent/bic": ("pmt", "DbtrAgt/FinInstnId/BICFI"),
    "/creditor": ("tx", "Cdtr"),
    "/creditor_account": ("tx", "CdtrAcct"),
    "/creditor_account/iban": ("tx", "CdtrAcct/Id/IBAN"),
    "/creditor_agent": ("tx", "CdtrAgt"),
    "/creditor_agent/bic": ("tx", "CdtrAgt/FinInstnId/BICFI"),
    "/intermediary_agents": ("tx", "IntrmyAgt1"),
    "/end_to_end_id": ("tx", "PmtId/EndToEndId"),
    "/instruction_id": ("tx", "PmtId/InstrId"),
    "/uetr": ("tx", "PmtId/UETR"),
    "/remittance": ("tx", "RmtInf"),
    "/purpose": ("tx", "Purp"),
    "/charge_bearer": ("tx", "ChrgBr"),
    "/requested_execution_date": ("pmt", "ReqdExctnDt"),
    "/priority": ("tx", "PmtTpInf/InstrPrty"),
    "/business_category": ("tx", "PmtTpInf/CtgyPurp"),
}


@dataclass(frozen=True)
class Pain001Item:
    """One transaction of the file: an order, or the reasons it cannot be one."""

    order: PaymentOrder | None
    instruction_id: str  # InstrId, else EndToEndId: the item's idempotency identity
    payment_info_id: str
    errors: list[FieldError] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return self.order is not None and not self.errors


@dataclass(frozen=True)
class Pain001Message:
    msg_id: str
    created: dt.datetime
    initiating_party: Party
    items: list[Pain001Item]
    message_id: str = MESSAGE_ID


@dataclass(frozen=True)
class Pain001Batch:
    """Orders that share a debtor, debtor account, debtor agent and execution date."""

    payment_info_id: str
    orders: Sequence[PaymentOrder]


def parse_pain001(data: bytes) -> list[Pain001Item]:
    """Safely parse and XSD-validate a pain.001 file and split it into items."""
    return read_pain001(read_iso(data)).items


def read_pain001(iso: IsoDocument) -> Pain001Message:
    if iso.kind != "pain.001":
        raise UnsupportedMessage(f"expected pain.001, got {iso.message_id}")
    registry = default_registry()
    if registry.has(iso.message_id):
        registry.validate(iso)
    root = Reader(iso.body, iso.namespace, _BODY)
    hdr = root.child("GrpHdr")
    if hdr is None:
        raise SchemaInvalid("missing GrpHdr", [FieldError(_BODY + "/GrpHdr", "required")])
    created = hdr.datetime("CreDtTm")
    if created is None:
        raise SchemaInvalid("missing CreDtTm", [FieldError(hdr.where + "/CreDtTm", "required")])
    initiator = hdr.child("InitgPty")
    items: list[Pain001Item] = []
    for pmt in root.children("PmtInf"):
        pmt_id = pmt.text("PmtInfId") or ""
        for tx in pmt.children("CdtTrfTxInf"):
            items.append(_item(pmt, pmt_id, tx))
    if not items:
        raise SchemaInvalid("pain.001 has no transaction", [FieldError(_BODY + "/PmtInf", "empty")])
    _flag_duplicates(items)
    return Pain001Message(
        msg_id=hdr.required("MsgId"),
        created=created,
        initiating_party=read_party(initiator) if initiator else Party(name="NOTPROVIDED"),
        items=items,
        message_id=iso.message_id,
    )


def _flag_duplicates(items: list[Pain001Item]) -> None:
    seen: set[str] = set()
    for index, item in enumerate(items):
        if item.instruction_id in seen:
            items[index] = Pain001Item(
                None,
                item.instruction_id,
                item.payment_info_id,
                [
                    *item.errors,
                    FieldError(
                        f"/items/{index}/instruction_id",
                        f"instruction id {item.instruction_id!r} occurs more than once in the file",
                    ),
                ],
            )
        seen.add(item.instruction_id)


def _item(pmt: Reader, pmt_id: str, tx: Reader) -> Pain001Item:
    identity = tx.text("PmtId/InstrId") or tx.text("PmtId/EndToEndId") or ""
    try:
        order = PaymentOrder.model_validate(_fields(pmt, tx))
    except SchemaInvalid as exc:
        return Pain001Item(None, identity, pmt_id, list(exc.errors))
    except ValidationError as exc:
        return Pain001Item(None, identity, pmt_id, _xml_errors(pmt, tx, exc))
    return Pain001Item(order, identity, pmt_id, [])


def _xml_errors(pmt: Reader, tx: Reader, exc: ValidationError) -> list[FieldError]:
    errors = []
    for err in field_errors(exc):
        best = max((p for p in _WHERE if _under(err.pointer, p)), key=len, default=None)
        if best is None:
            where = tx.where
        else:
            level, path = _WHERE[best]
            where = f"{(pmt if level == 'pmt' else tx).where}/{path}"
        field_name = err.pointer.lstrip("/") or "order"
        errors.append(FieldError(where, f"{field_name}: {err.reason}"))
    return errors


def _under(pointer: str, prefix: str) -> bool:
    return pointer == prefix or pointer.startswith(prefix + "/")


_R = TypeVar("_R")


def _guard(read: Callable[[Reader], _R], r: Reader | None) -> _R | None:
    """Run a part reader; a value the model refuses becomes an error at that element."""
    if r is None:
        return None
    try:
        return read(r)
    except ValidationError as exc:
        errors = [
            FieldError(r.where, f"{e.pointer.lstrip('/') or 'value'}: {e.reason}")
            for e in field_errors(exc)
        ]
        raise SchemaInvalid(f"{r.where}: {errors[0].reason}", errors) from None


def _fields(pmt: Reader, tx: Reader) -> dict[str, object]:
    amount = tx.amount("Amt/InstdAmt")
    if amount is None:
        raise SchemaInvalid(
            "only Amt/InstdAmt is supported",
            [FieldError(tx.where + "/Amt", "InstdAmt is required (EqvtAmt is not supported)")],
        )
    creditor = tx.child("Cdtr")
    if creditor is None:
        raise SchemaInvalid("missing Cdtr", [FieldError(tx.where + "/Cdtr", "required")])
    debtor = pmt.child("Dbtr")
    if debtor is None:  # the XSD requires it; only unvalidated versions get here
        raise SchemaInvalid("missing Dbtr", [FieldError(pmt.where + "/Dbtr", "required")])
    intermediaries = [
        a for a in (_guard(read_agent, tx.child(f"IntrmyAgt{n}")) for n in (1, 2, 3)) if a
    ]
    fields: dict[str, object] = {
        "amount": {"value": amount[0], "currency": amount[1]},
        "debtor": _guard(read_party, debtor),
        "debtor_account": _guard(read_account, pmt.child("DbtrAcct")) or {"other": "NOTPROVIDED"},
        "debtor_agent": _guard(read_agent, pmt.child("DbtrAgt")),
        "creditor": _guard(read_party, creditor),
        "creditor_account": _guard(read_account, tx.child("CdtrAcct")) or {"other": "NOTPROVIDED"},
        "creditor_agent": _guard(read_agent, tx.child("CdtrAgt")),
        "intermediary_agents": intermediaries,
        "end_to_end_id": tx.text("PmtId/EndToEndId") or "NOTPROVIDED",
        "instruction_id": tx.text("PmtId/InstrId"),
        "remittance": _guard(read_remittance, tx.child("RmtInf")),
        "requested_execution_date": pmt.date("ReqdExctnDt/Dt") or pmt.date("ReqdExctnDt/DtTm"),
    }
    priority = tx.text("PmtTpInf/InstrPrty") or pmt.text("PmtTpInf/InstrPrty")
    if priority in _PRIORITY_IN:
        fields["priority"] = _PRIORITY_IN[priority]
    category = (
        tx.text("PmtTpInf/CtgyPurp/Cd")
        or tx.text("PmtTpInf/CtgyPurp/Prtry")
        or pmt.text("PmtTpInf/CtgyPurp/Cd")
        or pmt.text("PmtTpInf/CtgyPurp/Prtry")
    )
    if category:
        fields["business_category"] = category
    charge_bearer = tx.text("ChrgBr") or pmt.text("ChrgBr")
    if charge_bearer:
        fields["charge_bearer"] = charge_bearer
    uetr = tx.text("PmtId/UETR")
    if uetr:
        fields["uetr"] = uetr
    purpose = tx.text("Purp/Cd")
    if purpose:
        fields["purpose"] = purpose
    return fields


def build_pain001(
    batches: Sequence[Pain001Batch],
    *,
    msg_id: str,
    created: dt.datetime,
    initiating_party: Party,
    execution_date: dt.date,
    validate: bool = True,
) -> bytes:
    """Build a pain.001.001.09 with one ``PmtInf`` per batch; XSD-validated unless told not to.

    Each order's ``requested_execution_date`` wins over ``execution_date`` (the batch's
    first order decides for the batch). Orders of one batch must share the debtor side.
    """
    orders = [o for batch in batches for o in batch.orders]
    if not orders:
        raise SchemaInvalid("a pain.001 needs at least one transaction", [])
    b = Builder(MESSAGE_ID)
    doc = b.document()
    body = b.sub(doc, "CstmrCdtTrfInitn")
    hdr = b.sub(body, "GrpHdr")
    b.sub(hdr, "MsgId", msg_id)
    b.sub(hdr, "CreDtTm", format_datetime(created))
    b.sub(hdr, "NbOfTxs", str(len(orders)))
    b.sub(hdr, "CtrlSum", str(sum(o.amount.value for o in orders)))
    write_party(b, hdr, "InitgPty", initiating_party)
    for n, batch in enumerate(batches):
        _write_batch(b, body, batch, n, execution_date)
    if validate:
        default_registry().validate(IsoDocument(doc, None, MESSAGE_ID))
    return serialize(doc)


def _debtor_side(order: PaymentOrder) -> tuple[object, ...]:
    return (order.debtor, order.debtor_account, order.debtor_agent, order.requested_execution_date)


def _write_batch(
    b: Builder, body: etree._Element, batch: Pain001Batch, n: int, execution_date: dt.date
) -> None:
    if not batch.orders:
        raise SchemaInvalid(
            "empty batch", [FieldError(f"/batches/{n}/orders", "at least one order")]
        )
    first = batch.orders[0]
    for i, order in enumerate(batch.orders):
        if _debtor_side(order) != _debtor_side(first):
            raise SchemaInvalid(
                "orders of one payment information block must share the debtor side",
                [FieldError(f"/batches/{n}/orders/{i}", "debtor side differs from order 0")],
            )
    if first.debtor_agent is None:
        raise SchemaInvalid(
            "a pain.001 payment information block needs a debtor agent",
            [FieldError(f"/batches/{n}/orders/0/debtor_agent", "required in pain.001")],
        )
    pmt = b.sub(body, "PmtInf")
    b.sub(pmt, "PmtInfId", batch.payment_info_id)
    b.sub(pmt, "PmtMtd", "TRF")
    b.sub(pmt, "NbOfTxs", str(len(batch.orders)))
    b.sub(pmt, "CtrlSum", str(sum(o.amount.value for o in batch.orders)))
    date = first.requested_execution_date or execution_date
    b.path(pmt, "ReqdExctnDt/Dt", date.isoformat())
    write_party(b, pmt, "Dbtr", first.debtor)
    write_account(b, pmt, "DbtrAcct", first.debtor_account)
    write_agent(b, pmt, "DbtrAgt", first.debtor_agent)
    for order in batch.orders:
        _write_transaction(b, pmt, order)


def _write_transaction(b: Builder, pmt: etree._Element, order: PaymentOrder) -> None:
    tx = b.sub(pmt, "CdtTrfTxInf")
    ids = b.sub(tx, "PmtId")
    b.opt(ids, "InstrId", order.instruction_id)
    b.sub(ids, "EndToEndId", order.end_to_end_id)
    b.sub(ids, "UETR", str(order.uetr))
    high = order.priority is Priority.HIGH
    if high or order.business_category:
        tp = b.sub(tx, "PmtTpInf")
        if high:
            b.sub(tp, "InstrPrty", "HIGH")
        if order.business_category:
            b.path(tp, "CtgyPurp/Prtry", order.business_category)
    amt = b.sub(tx, "Amt")
    b.amount(amt, "InstdAmt", order.amount.value, order.amount.currency)
    b.sub(tx, "ChrgBr", order.charge_bearer.value)
    for n, agent in enumerate(order.intermediary_agents, start=1):
        write_agent(b, tx, f"IntrmyAgt{n}", agent)
    if order.creditor_agent is not None:
        write_agent(b, tx, "CdtrAgt", order.creditor_agent)
    write_party(b, tx, "Cdtr", order.creditor)
    write_account(b, tx, "CdtrAcct", order.creditor_account)
    if order.purpose:
        b.path(tx, "Purp/Cd", order.purpose)
    if order.remittance is not None:
        write_remittance(b, tx, order.remittance)
