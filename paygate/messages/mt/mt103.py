"""MT103 single customer credit transfer <-> canonical order."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, field

from pydantic import ValidationError

from paygate.domain import (
    Account,
    Agent,
    ChargeBearer,
    Money,
    Party,
    PaymentOrder,
    PostalAddress,
    Remittance,
)
from paygate.errors import FieldError, MtSyntaxError, UnsupportedMessage
from paygate.messages.extras import (
    FOR_CREDITOR_AGENT,
    TIME_CODES,
    Charge,
    TxExtras,
)
from paygate.messages.loss import LossCode, LossReport
from paygate.messages.mt.blocks import (
    MtField,
    MtMessage,
    single_message,
    write_mt,
)
from paygate.messages.mt.charset import reference16, to_x, wrap
from paygate.messages.mt.rules import format_amount, parse_amount, validate_mt, validate_written
from paygate.messages.recurring_ids import account_for_iban, agent_for_bic

CHARGES_OUT = {ChargeBearer.DEBT: "OUR", ChargeBearer.CRED: "BEN", ChargeBearer.SHAR: "SHA"}
CHARGES_IN = {"OUR": ChargeBearer.DEBT, "BEN": ChargeBearer.CRED, "SHA": ChargeBearer.SHAR}
_ROC = re.compile(r"^/ROC/([^\n/]*)")
_CLEARING = re.compile(r"^//([A-Z]{2})(.+)$")
_CODEWORD = re.compile(r"^/([A-Z0-9]{1,8})/(.*)$")
_13C = re.compile(r"^/([A-Z]{1,8})/(\d{2})(\d{2})([+-])(\d{2})(\d{2})$")
# Fields _read and read_extras carry into the order or TxExtras.
_MAPPED = frozenset(
    {
        "20",
        "23B",
        "32A",
        "50A",
        "50F",
        "50K",
        "52A",
        "52D",
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
        "71A",
        "33B",
        "36",
        "71F",
        "71G",
        "72",
        "13C",
        "53A",
        "53D",
        "54A",
        "54D",
    }
)
_EXTRA_TAGS = frozenset({"33B", "36", "71F", "71G", "72", "13C", "53A", "53D", "54A", "54D"})
_NO_EXTRAS = TxExtras()
_BIC = re.compile(r"^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$")


@dataclass(frozen=True)
class Mt103:
    order: PaymentOrder
    sender_reference: str
    value_date: dt.date
    sender_bic: str | None
    receiver_bic: str | None
    uetr: uuid.UUID | None  # block 3 field 121; None when absent (never synthesised)
    bank_operation_code: str = "CRED"
    unmapped: list[MtField] = field(default_factory=list)  # fields pacs.008 cannot hold
    extras: TxExtras = field(default_factory=TxExtras)  # pacs.008 holds, the order cannot


def build_mt103(
    order: PaymentOrder,
    *,
    sender_reference: str,
    value_date: dt.date,
    sender_bic: str,
    receiver_bic: str,
    report: LossReport | None = None,
    extras: TxExtras | None = None,
) -> str:
    """Write a FIN MT103; anything shortened or replaced goes to ``report``."""
    report = report if report is not None else LossReport()
    x = extras or TxExtras()
    fields: list[tuple[str, str]] = [("20", reference16(sender_reference, "/20", report))]
    for code, time in x.settlement_times:
        fields.append(("13C", f"/{code}/{time[:2]}{time[3:5]}{_offset(time)}"))
    fields.append(("23B", "CRED"))
    fields.append(("32A", _field_32a(order.amount, value_date)))
    if x.instructed_amount is not None:
        amount = x.instructed_amount
        fields.append(("33B", f"{amount.currency}{format_amount(amount.value)}"))
    if x.exchange_rate is not None:
        fields.append(("36", x.exchange_rate.replace(".", ",")))
    fields.append(_party_field("50", order.debtor, order.debtor_account, report))
    if order.debtor_agent is not None:
        fields.append(_agent_field("52", order.debtor_agent, report))
    if x.instructing_reimbursement_agent is not None:
        fields.append(_agent_field("53", x.instructing_reimbursement_agent, report))
    if x.instructed_reimbursement_agent is not None:
        fields.append(_agent_field("54", x.instructed_reimbursement_agent, report))
    if order.intermediary_agents:
        fields.append(_agent_field("56", order.intermediary_agents[0], report))
        for extra in order.intermediary_agents[1:]:
            report.add(LossCode.NOT_MAPPED, "/intermediary_agents", extra.bic or extra.name or "")
    if order.creditor_agent is not None:
        fields.append(_agent_field("57", order.creditor_agent, report))
    fields.append(_party_field("59", order.creditor, order.creditor_account, report))
    remittance = _field_70(order, report)
    if remittance:
        fields.append(("70", remittance))
    if order.charge_bearer is ChargeBearer.SLEV:
        report.add(LossCode.DEFAULTED, "/71A", "SLEV", "SHA")
    fields.append(("71A", CHARGES_OUT.get(order.charge_bearer, "SHA")))
    receivers = [c for c in x.charges if c.receivers]
    for charge in x.charges:
        if not charge.receivers:
            fields.append(("71F", f"{charge.amount.currency}{format_amount(charge.amount.value)}"))
    for charge in receivers[:1]:
        fields.append(("71G", f"{charge.amount.currency}{format_amount(charge.amount.value)}"))
    for more in receivers[1:]:
        report.add(LossCode.NOT_MAPPED, "/ChrgsInf", str(more.amount.value), "one 71G only")
    f72 = _field_72(x, report)
    if f72:
        fields.append(("72", f72))
    message = MtMessage(
        fields=[MtField(tag, value, 0) for tag, value in fields],
        basic_header=f"F01{_lt(sender_bic)}0000000000",
        app_header=f"I103{_lt(receiver_bic)}N",
        user_header={"121": str(order.uetr)},
    )
    text = write_mt(message)
    validate_written(message, text)
    return text


def _offset(time: str) -> str:
    # "09:15:00+01:00" -> "+0100"; a time without offset is UTC.
    tail = time[8:]
    if not tail or tail == "Z":
        return "+0000"
    return tail[0] + tail[1:3] + tail[4:6]


def _field_72(x: TxExtras, report: LossReport) -> str | None:
    lines: list[str] = []
    items = []
    if x.previous_instructing_agent:
        items.append(f"/INS/{x.previous_instructing_agent}")
    items.extend(x.for_creditor_agent)
    items.extend(x.for_next_agent)
    for item in items:
        text = to_x(item, "/72", report)
        if not text.startswith("/"):
            text = "/REC/" + text  # free text to the next agent: codeword REC
        chunks = wrap(text, 35)
        lines.append(chunks[0])
        rest = "".join(chunks[1:])
        lines.extend("//" + c for c in wrap(rest, 33) if rest)
    if len(lines) > 6:
        report.add(LossCode.TRUNCATED, "/72", "\n".join(lines), "\n".join(lines[:6]))
    return "\n".join(lines[:6]) or None


def read_extras(message: MtMessage) -> tuple[TxExtras, list[MtField]]:
    """What pacs.008 holds beyond the order (33B, 36, 71F, 71G, 72, 13C, 53a, 54a),
    and the fields that stay without a place (returned as the second value)."""
    if not any(f.tag in _EXTRA_TAGS for f in message.fields):
        return _NO_EXTRAS, []  # the common case, kept cheap: it is on the hot path
    sender, receiver = message.sender_bic, message.receiver_bic
    charges: list[Charge] = []
    times: list[tuple[str, str]] = []
    for_cdtr: list[str] = []
    for_next: list[str] = []
    previous = None
    left: list[MtField] = []
    instructed = rate = None
    for f in message.fields:
        if f.tag in ("33B", "71F", "71G") and parse_amount(f.value[3:]) == 0:
            left.append(f)  # a zero amount (e.g. 71F EUR0, under BEN) has no ISO element
        elif f.tag == "33B":
            instructed = Money(currency=f.value[:3], value=parse_amount(f.value[3:]))
        elif f.tag == "36":
            rate = format(parse_amount(f.value), "f")
            rate = rate.rstrip("0").rstrip(".") if "." in rate else rate
        elif f.tag in ("71F", "71G"):
            amount = Money(currency=f.value[:3], value=parse_amount(f.value[3:]))
            receivers = f.tag == "71G"
            charges.append(Charge(amount, receiver if receivers else sender, receivers))
        elif f.tag == "13C":
            match = _13C.match(f.value)
            if match and match.group(1) in TIME_CODES:
                code, hh, mm, sign, oh, om = match.groups()
                times.append((code, f"{hh}:{mm}:00{sign}{oh}:{om}"))
            else:
                left.append(f)
        elif f.tag == "72":
            for code, text in _codewords_72(f.value):
                if code == "INS" and _BIC.match(text):
                    previous = text
                elif code in FOR_CREDITOR_AGENT:
                    for_cdtr.append(f"/{code}/{text}"[:140])
                else:
                    for_next.append((f"/{code}/{text}" if code else text)[:140])
    extras = TxExtras(
        instructed_amount=instructed,
        exchange_rate=rate,
        charges=tuple(charges),
        for_creditor_agent=tuple(for_cdtr),
        for_next_agent=tuple(for_next),
        previous_instructing_agent=previous,
        settlement_times=tuple(times),
        instructing_reimbursement_agent=_read_agent(message.get("53A", "53D")),
        instructed_reimbursement_agent=_read_agent(message.get("54A", "54D")),
    )
    return extras, left


def _codewords_72(value: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for line in value.split("\n"):
        if line.startswith("//") and out:
            out[-1] = (out[-1][0], out[-1][1] + line[2:])
            continue
        match = _CODEWORD.match(line)
        if match:
            out.append((match.group(1), match.group(2)))
        elif out:
            out[-1] = (out[-1][0], f"{out[-1][1]} {line}")
        else:
            out.append(("", line))
    return out


def _lt(bic: str) -> str:
    bic11 = bic if len(bic) == 11 else bic[:8] + "XXX"
    return bic11[:8] + "A" + bic11[8:]


def _field_32a(amount: Money, value_date: dt.date) -> str:
    return f"{value_date:%y%m%d}{amount.currency}{format_amount(amount.value)}"


def _account_line(account: Account) -> str:
    return "/" + account.identifier


def _party_field(
    number: str, party: Party, account: Account, report: LossReport
) -> tuple[str, str]:
    path = "/50a" if number == "50" else "/59a"
    acct = _account_line(account)
    if len(acct) > 35:
        report.add(LossCode.TRUNCATED, path + "/account", acct, acct[:35])
        acct = acct[:35]
    address = party.address
    name = to_x(party.name, path + "/name", report)
    if address is not None and address.town_name and address.country:
        # Option F: numbered lines carry a structured name and town/country.
        lines = [f"1/{chunk}" for chunk in wrap(name, 33)]
        for line in address.address_lines:
            lines.extend(f"2/{c}" for c in wrap(to_x(line, path + "/address", report), 33))
        street = " ".join(p for p in (address.street_name, address.building_number) if p)
        if street:
            lines.extend(f"2/{c}" for c in wrap(to_x(street, path + "/street", report), 33))
        town = to_x(address.town_name, path + "/town", report)
        lines.append(f"3/{address.country}/{town}"[:35])
        tag = number + "F"
    else:
        lines = wrap(name, 35)
        if address is not None:
            for line in address.address_lines:
                lines.extend(wrap(to_x(line, path + "/address", report), 35))
        tag = number + "K" if number == "50" else number
    if len(lines) > 4:
        report.add(LossCode.TRUNCATED, path, "\n".join(lines), "\n".join(lines[:4]))
        lines = lines[:4]
    if party.bic and tag in ("50K", "59"):
        report.add(LossCode.NOT_MAPPED, path + "/bic", party.bic)
    return tag, "\n".join([acct, *lines])


def _agent_field(number: str, agent: Agent, report: LossReport) -> tuple[str, str]:
    path = f"/{number}a"
    if agent.bic:
        return number + "A", agent.bic
    if agent.member_id and agent.clearing_system and number in ("56", "57") and not agent.name:
        code = agent.clearing_system[:2]
        return number + "C", f"//{code}{agent.member_id}"[:35]
    lines = []
    if agent.member_id and agent.clearing_system:
        lines.append(f"//{agent.clearing_system[:2]}{agent.member_id}"[:35])
    lines.extend(wrap(to_x(agent.name or "", path + "/name", report), 35))
    if agent.address is not None:
        for line in agent.address.address_lines:
            lines.extend(wrap(to_x(line, path + "/address", report), 35))
    if len(lines) > 5:
        report.add(LossCode.TRUNCATED, path, "\n".join(lines), "\n".join(lines[:5]))
    return number + "D", "\n".join(lines[:5])


def _field_70(order: PaymentOrder, report: LossReport) -> str:
    text = ""
    if order.end_to_end_id != "NOTPROVIDED":
        text = "/ROC/" + to_x(order.end_to_end_id, "/70/ROC", report)
    if order.remittance is not None:
        if order.remittance.unstructured:
            body = to_x(order.remittance.unstructured, "/70", report)
            text = f"{text}\n{body}" if text else body
        for ref in order.remittance.structured:
            report.add(LossCode.NOT_MAPPED, "/remittance/structured", ref.reference)
    if not text:
        return ""
    lines: list[str] = []
    for part in text.split("\n"):
        lines.extend(wrap(part, 35))
    if len(lines) > 4:
        report.add(LossCode.TRUNCATED, "/70", text, "\n".join(lines[:4]))
    return "\n".join(lines[:4])


def parse_mt103(text: str) -> Mt103:
    return read_mt103(single_message(text, "103", "use parse_mt103_file for several messages"))


def read_mt103(message: MtMessage, *, strict: bool = True) -> Mt103:
    if message.mt_type not in ("103", None):
        raise UnsupportedMessage(f"expected MT103, got MT{message.mt_type}")
    message.mt_hint = message.mt_hint or "103"
    if strict:
        validate_mt(message)
    try:
        return _read(message)
    except ValidationError as exc:
        errors = [FieldError(f"line {message.first_line}", str(e["msg"])) for e in exc.errors()]
        raise MtSyntaxError(
            f"MT103 content is not a valid payment: {errors[0].reason}", errors
        ) from None
    except ValueError as exc:
        raise MtSyntaxError(
            str(exc), [FieldError(f"line {message.first_line}", str(exc))]
        ) from None


def _read(message: MtMessage) -> Mt103:
    # First field per tag and per number (50 finds 50A/50F/50K), indexed in one pass.
    by_tag: dict[str, MtField] = {}
    by_number: dict[str, MtField] = {}
    for f in message.fields:
        by_tag.setdefault(f.tag, f)
        by_number.setdefault(f.tag[:2], f)
    f32a = _need(by_tag, "32A")
    value_date = _date6(f32a.value[:6])
    amount = Money(currency=f32a.value[6:9], value=parse_amount(f32a.value[9:]))
    debtor, debtor_account = _read_party(_need_any(by_number, "50"))
    creditor, creditor_account = _read_party(_need_any(by_number, "59"))
    f70 = by_tag.get("70")
    end_to_end = "NOTPROVIDED"
    remittance = None
    if f70 is not None:
        body = f70.value
        roc = _ROC.match(body)
        if roc and roc.group(1).strip():
            end_to_end = roc.group(1).strip()
            body = body[roc.end() :].lstrip("\n")
        body = " ".join(body.split("\n")).strip() if "\n" not in body else body.replace("\n", "")
        if body:
            remittance = Remittance(unstructured=body[:140])
    intermediary = _read_agent(by_number.get("56"))
    uetr_text = message.user_header.get("121")
    uetr = uuid.UUID(uetr_text) if uetr_text else None
    reference = _need(by_tag, "20").value
    order = PaymentOrder(
        amount=amount,
        debtor=debtor,
        debtor_account=debtor_account,
        debtor_agent=_read_agent(by_number.get("52")),
        creditor=creditor,
        creditor_account=creditor_account,
        creditor_agent=_read_agent(by_number.get("57")),
        intermediary_agents=[intermediary] if intermediary is not None else [],
        end_to_end_id=end_to_end,
        instruction_id=reference,
        remittance=remittance,
        charge_bearer=CHARGES_IN.get(_need(by_tag, "71A").value, ChargeBearer.SHAR),
        **({"uetr": uetr} if uetr else {}),
    )
    extras, left = read_extras(message)
    f23b = by_tag.get("23B")
    return Mt103(
        order=order,
        sender_reference=reference,
        value_date=value_date,
        sender_bic=message.sender_bic,
        receiver_bic=message.receiver_bic,
        uetr=uetr,
        bank_operation_code=f23b.value if f23b is not None else "CRED",
        unmapped=[f for f in message.fields if f.tag not in _MAPPED] + left,
        extras=extras,
    )


def _date6(text: str) -> dt.date:
    """YYMMDD (00-68 are 20xx: the same pivot as strptime %y)."""
    if len(text) != 6 or not text.isdigit():
        raise ValueError(f"{text!r} is not a YYMMDD date")
    year = int(text[:2])
    return dt.date(2000 + year if year < 69 else 1900 + year, int(text[2:4]), int(text[4:6]))


def _need(by_tag: dict[str, MtField], tag: str) -> MtField:
    f = by_tag.get(tag)
    if f is None:
        raise ValueError(f"MT103 requires field :{tag}:")
    return f


def _need_any(by_number: dict[str, MtField], number: str) -> MtField:
    f = by_number.get(number)
    if f is None:
        raise ValueError(f"MT103 requires field :{number}a:")
    return f


def _read_party(f: MtField) -> tuple[Party, Account]:
    lines = f.value.split("\n")
    if lines[0].startswith("/") or f.tag == "50F":
        ident = lines.pop(0)
        account = (
            _account(ident.lstrip("/"))
            if ident.startswith("/")
            else Account(other=ident[:34], scheme="PRTY")
        )
    else:
        account = Account(other="NOTPROVIDED")
    if f.option == "A":
        return Party(name=lines[0] if lines else "NOTPROVIDED", bic=lines[0]), account
    if f.option == "F":
        names, street, town, country = [], [], None, None
        for line in lines:
            code, _, rest = line.partition("/")
            if code == "1":
                names.append(rest)
            elif code == "2":
                street.append(rest)
            elif code == "3":
                country, _, town = rest.partition("/")
        address = (
            PostalAddress(address_lines=street, town_name=town or None, country=country or None)
            if (street or town)
            else None
        )
        return Party(name="".join(names) or "NOTPROVIDED", address=address), account
    name = lines[0] if lines else "NOTPROVIDED"
    others = lines[1:]
    address = PostalAddress(address_lines=others) if others else None
    return Party(name=name, address=address), account


def _account(ident: str) -> Account:
    try:
        return account_for_iban(ident)
    except ValidationError:
        return Account(other=ident[:34])


def _read_agent(f: MtField | None) -> Agent | None:
    if f is None:
        return None
    lines = f.value.split("\n")
    clearing = None
    if lines and lines[0].startswith("/"):
        first = lines.pop(0)
        match = _CLEARING.match(first)
        if match:
            clearing = (match.group(1), match.group(2))
    if f.option == "A":
        return agent_for_bic(lines[0]) if lines else None
    if f.option == "C":
        return Agent(clearing_system=clearing[0], member_id=clearing[1]) if clearing else None
    name = lines[0] if lines else None
    address = PostalAddress(address_lines=lines[1:]) if len(lines) > 1 else None
    return Agent(
        name=name,
        address=address,
        clearing_system=clearing[0] if clearing else None,
        member_id=clearing[1] if clearing else None,
    )
