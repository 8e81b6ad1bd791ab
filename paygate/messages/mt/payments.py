"""Split an MT103/MT101 payment file into canonical orders, one item per transaction.

An MT103 is one transaction (identity: field 20). An MT101 carries a general sequence A
(sender's reference 20, message index 28D, requested execution date 30, and optionally the
ordering customer and its institution) and one sequence B per transaction, each opened by
its transaction reference 21 (the item's identity). A message or transaction that cannot
become a valid order yields an item with its errors (``line N``) instead of raising; only a
file that is not SWIFT MT at all raises ``MtSyntaxError``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from pydantic import ValidationError

from paygate.domain import ChargeBearer, Money, PaymentOrder
from paygate.errors import FieldError, MtSyntaxError, UnsupportedMessage
from paygate.messages.mt.blocks import MtField, MtMessage, parse_mt_file
from paygate.messages.mt.mt103 import CHARGES_IN, _read_agent, _read_party, read_mt103
from paygate.messages.mt.rules import X_SET, parse_amount

_REF16 = re.compile(r"^[A-Za-z0-9/\-?:().,'+ ]{1,16}$")
_32B = re.compile(r"^([A-Z]{3})(\d[\d,]{0,14})$")
_DATE6 = re.compile(r"^\d{6}$")
# MT101 option letters that mean the same as the MT103 ones _read_party understands.
_PARTY_AS = {"50G": "50A", "50H": "50K", "50F": "50F", "59": "59", "59A": "59A", "59F": "59F"}
_SEQ_A = {"20", "21R", "28D", "50C", "50L", "50F", "50G", "50H", "52A", "52C", "51A", "30", "25"}
_SEQ_B = {
    "21",
    "21F",
    "23E",
    "32B",
    "50C",
    "50L",
    "50F",
    "50G",
    "50H",
    "52A",
    "52C",
    "56A",
    "56C",
    "56D",
    "57A",
    "57C",
    "57D",
    "59",
    "59A",
    "59F",
    "70",
    "77B",
    "33B",
    "71A",
    "25A",
    "36",
}


@dataclass(frozen=True)
class MtItem:
    """One transaction of an MT file: an order, or why it cannot be one."""

    order: PaymentOrder | None
    sender_reference: str  # MT103 :20:, MT101 sequence B :21: — the item's identity
    errors: list[FieldError] = field(default_factory=list)
    mt_type: str = "103"
    value_date: dt.date | None = None

    @property
    def valid(self) -> bool:
        return self.order is not None and not self.errors


def split_mt_payments(text: str) -> list[MtItem]:
    """Every transaction of every MT103/MT101 in ``text``, in file order."""
    items: list[MtItem] = []
    for message in parse_mt_file(text):
        mt = message.mt_type
        if mt == "101":
            items.extend(_mt101_items(message))
        elif mt in ("103", None):
            items.append(_mt103_item(message))
        else:
            ref = message.get("20")
            items.append(
                MtItem(
                    None,
                    ref.value if ref else "",
                    [FieldError(f"line {message.first_line}", f"MT{mt} is not a payment order")],
                    mt_type=mt,
                )
            )
    seen: set[str] = set()
    for index, item in enumerate(items):
        if item.sender_reference in seen:
            items[index] = MtItem(
                None,
                item.sender_reference,
                [
                    *item.errors,
                    FieldError(
                        f"/items/{index}/sender_reference",
                        f"reference {item.sender_reference!r} occurs more than once in the file",
                    ),
                ],
                mt_type=item.mt_type,
            )
        seen.add(item.sender_reference)
    return items


def _mt103_item(message: MtMessage) -> MtItem:
    ref = message.get("20")
    reference = ref.value if ref else ""
    try:
        mt = read_mt103(message)
    except (MtSyntaxError, UnsupportedMessage) as exc:
        errors = getattr(exc, "errors", None) or [
            FieldError(f"line {message.first_line}", exc.detail)
        ]
        return MtItem(None, reference, list(errors))
    return MtItem(mt.order, mt.sender_reference, [], value_date=mt.value_date)


def _mt101_items(message: MtMessage) -> list[MtItem]:
    seq_a: list[MtField] = []
    sequences: list[list[MtField]] = []
    for f in message.fields:
        if f.tag == "21":
            sequences.append([f])
        elif sequences:
            sequences[-1].append(f)
        else:
            seq_a.append(f)
    general = MtMessage(seq_a, mt_hint="101")
    header_errors = _check(seq_a, _SEQ_A, ("20", "28D", "30"), "A", message.first_line)
    date_field = general.get("30")
    execution_date = None
    if date_field is not None and _DATE6.match(date_field.value):
        try:
            execution_date = dt.datetime.strptime(date_field.value, "%y%m%d").date()
        except ValueError:
            header_errors.append(FieldError(f"line {date_field.line}", ":30: is not a date"))
    elif date_field is not None:
        header_errors.append(FieldError(f"line {date_field.line}", ":30: must be YYMMDD"))
    if not sequences:
        return [
            MtItem(
                None,
                general.get("20").value if general.get("20") else "",  # type: ignore[union-attr]
                [*header_errors, FieldError(f"line {message.first_line}", "MT101 needs :21:")],
                mt_type="101",
            )
        ]
    return [_mt101_transaction(general, seq, header_errors, execution_date) for seq in sequences]


def _check(
    fields: list[MtField], allowed: set[str], mandatory: tuple[str, ...], seq: str, line: int
) -> list[FieldError]:
    errors: list[FieldError] = []
    tags = {f.tag for f in fields}
    for tag in mandatory:
        if tag not in tags:
            errors.append(FieldError(f"line {line}", f"MT101 sequence {seq} requires :{tag}:"))
    for f in fields:
        where = f"line {f.line}"
        if f.tag not in allowed:
            errors.append(FieldError(where, f"field :{f.tag}: is not allowed in MT101 seq {seq}"))
        elif not X_SET.match(f.value):
            errors.append(FieldError(where, f":{f.tag}: has characters outside SWIFT set X"))
        elif f.tag in ("20", "21") and not _REF16.match(f.value):
            errors.append(FieldError(where, f":{f.tag}: must be 1 to 16 characters"))
    return errors


def _mt101_transaction(
    general: MtMessage,
    seq: list[MtField],
    header_errors: list[FieldError],
    execution_date: dt.date | None,
) -> MtItem:
    tx = MtMessage(seq, mt_hint="101")
    reference = seq[0].value
    line = seq[0].line
    errors = [
        *header_errors,
        *_check(seq, _SEQ_B, ("21", "32B", "71A"), "B", line),
    ]
    if errors:
        return MtItem(None, reference, errors, mt_type="101")
    try:
        order = _mt101_order(general, tx, reference, execution_date, line)
    except ValidationError as exc:
        reasons = [str(e["msg"]).removeprefix("Value error, ") for e in exc.errors()]
        return MtItem(None, reference, [FieldError(f"line {line}", r) for r in reasons], "101")
    except ValueError as exc:
        return MtItem(None, reference, [FieldError(f"line {line}", str(exc))], mt_type="101")
    return MtItem(order, reference, [], mt_type="101", value_date=execution_date)


def _party(message: MtMessage, number: str) -> MtField | None:
    f = message.option_of(number)
    if f is None or f.tag not in _PARTY_AS:
        return None
    return MtField(_PARTY_AS[f.tag], f.value, f.line)


def _mt101_order(
    general: MtMessage,
    tx: MtMessage,
    reference: str,
    execution_date: dt.date | None,
    line: int,
) -> PaymentOrder:
    f32b = tx.get("32B")
    match = _32B.match(f32b.value) if f32b else None
    if match is None:
        raise ValueError(":32B: must be a currency code and an amount with a decimal comma")
    ordering = _party(tx, "50") or _party(general, "50")
    if ordering is None:
        raise ValueError("MT101 needs the ordering customer :50F/G/H: in sequence A or B")
    beneficiary = _party(tx, "59")
    if beneficiary is None:
        raise ValueError(f"MT101 transaction at line {line} needs the beneficiary :59a:")
    debtor, debtor_account = _read_party(ordering)
    creditor, creditor_account = _read_party(beneficiary)
    f70 = tx.get("70")
    remittance = {"unstructured": " ".join(f70.value.split("\n"))[:140]} if f70 else None
    charges = tx.get("71A")
    intermediary = _read_agent(tx.option_of("56"))
    return PaymentOrder.model_validate(
        {
            "amount": Money(currency=match.group(1), value=parse_amount(match.group(2))),
            "debtor": debtor,
            "debtor_account": debtor_account,
            "debtor_agent": _read_agent(tx.option_of("52") or general.option_of("52")),
            "creditor": creditor,
            "creditor_account": creditor_account,
            "creditor_agent": _read_agent(tx.option_of("57")),
            "intermediary_agents": [intermediary] if intermediary else [],
            "instruction_id": reference,
            "remittance": remittance,
            "requested_execution_date": execution_date,
            "charge_bearer": CHARGES_IN.get(charges.value if charges else "", ChargeBearer.SHAR),
        }
    )
