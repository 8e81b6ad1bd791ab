"""MT202 / MT202COV general financial institution transfer <-> pacs.009 transfer values.

Sequence A (the bank-to-bank transfer): 20, 21, 13C, 32A, 52a, 53a, 54a, 56a, 57a, 58a, 72.
Sequence B of a COV (the underlying customer transfer) starts at 50a: 50a, 52a, 56a, 57a,
59a, 70, 72, 33B. ``{119:COV}`` in block 3 marks a cover payment.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, field

from pydantic import ValidationError

from paygate.domain import Account, Agent, Money
from paygate.errors import FieldError, MtSyntaxError, UnsupportedMessage
from paygate.messages.extras import TIME_CODES
from paygate.messages.loss import LossCode, LossReport
from paygate.messages.mt.blocks import (
    MtField,
    MtMessage,
    single_message,
    write_mt,
)
from paygate.messages.mt.charset import reference16, to_x, wrap
from paygate.messages.mt.mt103 import (
    _13C,
    _agent_field,
    _date6,
    _field_32a,
    _lt,
    _offset,
    _party_field,
    _read_agent,
    _read_party,
)
from paygate.messages.mt.rules import parse_amount, validate_mt, validate_written
from paygate.messages.pacs009 import FiTransfer, UnderlyingCustomer

_CODEWORD = re.compile(r"^/([A-Z0-9]{1,8})/(.*)$")
# 72 codewords meant for the creditor agent; the others travel to the next agent.
FOR_CREDITOR_AGENT = {"ACC", "BNF", "PHON", "PHONBEN", "TELEBEN", "TELE"}


@dataclass(frozen=True)
class Mt202:
    transfer: FiTransfer
    cover: bool
    sender_bic: str | None
    receiver_bic: str | None
    senders_correspondent: Agent | None = None  # 53a
    receivers_correspondent: Agent | None = None  # 54a
    unmapped: list[MtField] = field(default_factory=list)


def split_72(value: str) -> list[tuple[str, str]]:
    """``/CODE/text`` lines (``//`` continues the previous line) -> [(code, text)]."""
    out: list[tuple[str, str]] = []
    for line in value.split("\n"):
        if line.startswith("//") and out:
            code, text = out[-1]
            out[-1] = (code, text + line[2:])  # the writer cuts anywhere: no space implied
            continue
        match = _CODEWORD.match(line)
        if match:
            out.append((match.group(1), match.group(2)))
        elif out:
            code, text = out[-1]
            out[-1] = (code, f"{text} {line}".strip())
        else:
            out.append(("", line))
    return out


def join_72(instructions: list[tuple[str, str]], report: LossReport) -> str | None:
    """[(code, text)] -> a 6x35 field 72 with ``//`` continuation lines."""
    lines: list[str] = []
    for code, text in instructions:
        text = to_x(text, "/72", report)
        first = f"/{code}/" if code else ""
        chunks = wrap(first + text, 35)
        lines.append(chunks[0])
        for rest in wrap("".join(chunks[1:]), 33) if len(chunks) > 1 else []:
            lines.append("//" + rest)
    if not lines:
        return None
    if len(lines) > 6:
        report.add(LossCode.TRUNCATED, "/72", "\n".join(lines), "\n".join(lines[:6]))
    return "\n".join(lines[:6])


def parse_mt202(text: str) -> Mt202:
    return read_mt202(single_message(text, "202", "one message per MT202 translation"))


def read_mt202(message: MtMessage, *, strict: bool = True) -> Mt202:
    """Read the transfer; ``strict`` first applies every MT rule (``validate_mt``).

    Lenient reading (``strict=False``) takes what is there, e.g. a block 1 without its
    ``F01`` prefix; the validator still reports such a message as breaking the rules."""
    if message.mt_type not in ("202", None):
        raise UnsupportedMessage(f"expected MT202, got MT{message.mt_type}")
    message.mt_hint = message.mt_hint or "202"
    if strict:
        validate_mt(message)
    try:
        return _read(message)
    except ValidationError as exc:
        errors = [FieldError(f"line {message.first_line}", str(e["msg"])) for e in exc.errors()]
        raise MtSyntaxError(f"MT202 content is not valid: {errors[0].reason}", errors) from None
    except ValueError as exc:
        raise MtSyntaxError(
            str(exc), [FieldError(f"line {message.first_line}", str(exc))]
        ) from None


def _read(message: MtMessage) -> Mt202:
    seq_a: list[MtField] = []
    seq_b: list[MtField] = []
    for f in message.fields:
        (seq_b if seq_b or f.number == "50" else seq_a).append(f)
    a = MtMessage(seq_a, mt_hint="202")
    cover = message.user_header.get("119") == "COV" or bool(seq_b)
    uetr_text = message.user_header.get("121")
    if not uetr_text:
        raise ValueError("MT202 has no UETR in block 3 {121:}; it is mandatory")
    f32a = a.get("32A")
    f20, f21 = a.get("20"), a.get("21")
    if f32a is None or f20 is None or f21 is None:
        raise ValueError("MT202 requires :20:, :21: and :32A:")
    creditor = _read_agent(a.option_of("58"))
    sender = message.sender_bic
    debtor = _read_agent(a.option_of("52")) or (Agent(bic=sender) if sender else None)
    if creditor is None or debtor is None:
        raise ValueError("MT202 needs the beneficiary institution 58a and a sender or 52a")
    for_cdtr: list[str] = []
    for_next: list[str] = []
    f72 = a.get("72")
    if f72 is not None:
        for code, text in split_72(f72.value):
            target = for_cdtr if code in FOR_CREDITOR_AGENT else for_next
            target.append(f"/{code}/{text}"[:140] if code else text[:140])
    underlying = _underlying(MtMessage(seq_b, mt_hint="202")) if seq_b else None
    times: list[tuple[str, str]] = []
    left: list[MtField] = []
    for f in a.all("13C"):
        match = _13C.match(f.value)
        if match and match.group(1) in TIME_CODES:
            code, hh, mm, sign, oh, om = match.groups()
            times.append((code, f"{hh}:{mm}:00{sign}{oh}:{om}"))
        else:
            left.append(f)
    transfer = FiTransfer(
        amount=Money(currency=f32a.value[6:9], value=parse_amount(f32a.value[9:])),
        settlement_date=_date6(f32a.value[:6]),
        instruction_id=f20.value,
        end_to_end_id=f21.value,
        tx_id=f20.value,
        uetr=uuid.UUID(uetr_text),
        debtor=debtor,
        creditor=creditor,
        instructing_agent_bic=sender,
        instructed_agent_bic=message.receiver_bic,
        creditor_agent=_read_agent(a.option_of("57")),
        intermediary=_read_agent(a.option_of("56")),
        instructions_for_creditor_agent=tuple(for_cdtr),
        instructions_for_next_agent=tuple(for_next),
        underlying=underlying,
        settlement_times=tuple(times),
    )
    return Mt202(
        transfer=transfer,
        cover=cover,
        sender_bic=sender,
        receiver_bic=message.receiver_bic,
        senders_correspondent=_read_agent(a.option_of("53")) if a.get("53A", "53D") else None,
        receivers_correspondent=_read_agent(a.option_of("54")) if a.get("54A", "54D") else None,
        unmapped=left
        + [f for f in seq_a if f.tag in ("53B", "54B", "57B")]
        + [f for f in seq_b if f.tag in ("72",)],
    )


def _underlying(b: MtMessage) -> UnderlyingCustomer:
    f50, f59 = b.option_of("50"), b.option_of("59")
    if f50 is None or f59 is None:
        raise ValueError("MT202COV sequence B needs 50a and 59a")
    debtor, debtor_account = _read_party(f50)
    creditor, creditor_account = _read_party(f59)
    f70 = b.get("70")
    f33b = b.get("33B")
    return UnderlyingCustomer(
        debtor=debtor,
        creditor=creditor,
        debtor_account=debtor_account,
        creditor_account=creditor_account,
        debtor_agent=_read_agent(b.option_of("52")),
        creditor_agent=_read_agent(b.option_of("57")),
        intermediary=_read_agent(b.option_of("56")),
        remittance=" ".join(f70.value.split("\n"))[:140] if f70 else None,
        instructed_amount=(
            Money(currency=f33b.value[:3], value=parse_amount(f33b.value[3:])) if f33b else None
        ),
    )


def _fi_agent(number: str, agent: Agent, report: LossReport) -> tuple[str, str]:
    # MT202 knows options A and D only (and 57B); a clearing-code-only agent becomes D.
    tag, value = _agent_field(number, agent, report)
    if tag.endswith("C"):
        report.add(LossCode.DEFAULTED, f"/{number}a", value, "option D with name NOTPROVIDED")
        return number + "D", value + "\nNOTPROVIDED"
    return tag, value


def build_mt202(
    transfer: FiTransfer,
    *,
    sender_bic: str,
    receiver_bic: str,
    senders_correspondent: Agent | None = None,
    receivers_correspondent: Agent | None = None,
    report: LossReport | None = None,
) -> str:
    """MT202, or MT202COV when ``transfer.underlying`` is set; losses go to ``report``."""
    report = report if report is not None else LossReport()
    t = transfer
    fields: list[tuple[str, str]] = [
        ("20", reference16(t.instruction_id, "/20", report)),
        ("21", reference16(t.end_to_end_id, "/21", report)),
    ]
    for code, time in t.settlement_times:
        fields.append(("13C", f"/{code}/{time[:2]}{time[3:5]}{_offset(time)}"))
    fields.append(("32A", _field_32a(t.amount, t.settlement_date)))
    if t.debtor.bic != sender_bic:
        fields.append(_fi_agent("52", t.debtor, report))
    if senders_correspondent is not None:
        fields.append(_fi_agent("53", senders_correspondent, report))
    if receivers_correspondent is not None:
        fields.append(_fi_agent("54", receivers_correspondent, report))
    if t.intermediary is not None:
        fields.append(_fi_agent("56", t.intermediary, report))
    if t.creditor_agent is not None:
        fields.append(_fi_agent("57", t.creditor_agent, report))
    fields.append(_fi_agent("58", t.creditor, report))
    instructions = [
        _code_text(x) for x in (*t.instructions_for_creditor_agent, *t.instructions_for_next_agent)
    ]
    f72 = join_72(instructions, report)
    if f72:
        fields.append(("72", f72))
    u = t.underlying
    if u is not None:
        none = Account(other="NOTPROVIDED")
        fields.append(_party_field("50", u.debtor, u.debtor_account or none, report))
        if u.debtor_agent is not None:
            fields.append(_fi_agent("52", u.debtor_agent, report))
        if u.intermediary is not None:
            fields.append(_fi_agent("56", u.intermediary, report))
        if u.creditor_agent is not None:
            fields.append(_fi_agent("57", u.creditor_agent, report))
        fields.append(_party_field("59", u.creditor, u.creditor_account or none, report))
        if u.remittance:
            lines = wrap(to_x(u.remittance, "/70", report), 35)
            if len(lines) > 4:
                report.add(LossCode.TRUNCATED, "/70", u.remittance, "\n".join(lines[:4]))
            fields.append(("70", "\n".join(lines[:4])))
        if u.instructed_amount is not None:
            amt = _field_32a(u.instructed_amount, dt.date(2000, 1, 1))[6:]
            fields.append(("33B", amt))
    user_header = {"119": "COV", "121": str(t.uetr)} if u is not None else {"121": str(t.uetr)}
    message = MtMessage(
        fields=[MtField(tag, value, 0) for tag, value in fields],
        basic_header=f"F01{_lt(sender_bic)}0000000000",
        app_header=f"I202{_lt(receiver_bic)}N",
        user_header=user_header,
    )
    text = write_mt(message)
    validate_written(message, text)
    return text


def _code_text(instruction: str) -> tuple[str, str]:
    match = _CODEWORD.match(instruction)
    return (match.group(1), match.group(2)) if match else ("", instruction)
