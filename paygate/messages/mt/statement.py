"""MT940 / MT950 statements <-> the shared ``Statement`` type, with MT940 paging."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from decimal import Decimal

from paygate.errors import FieldError, MtSyntaxError
from paygate.messages.loss import LossCode, LossReport
from paygate.messages.mt.blocks import MtField, MtMessage, parse_mt_file, write_mt
from paygate.messages.mt.charset import to_x, wrap
from paygate.messages.mt.rules import format_amount, parse_amount
from paygate.messages.statements import Balance, Statement, StatementEntry

_BAL = re.compile(r"^([CD])(\d{6})([A-Z]{3})(\d[\d,]*)$")
_61 = re.compile(
    r"^(?P<value>\d{6})(?P<entry>\d{4})?(?P<mark>R?[CD])(?P<funds>[A-Z])?(?P<amount>\d[\d,]*)"
    r"(?P<type>[A-Z][A-Z0-9 ]{3})(?P<cust>.*?)(?://(?P<bank>[^\n]*))?(?:\n(?P<extra>.*))?$",
    re.S,
)
_UETR = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", re.I)
_EREF = re.compile(r"(?:/EREF/|EREF\+)([^/\n]+)")


def parse_mt_statements(text: str) -> list[Statement]:
    """Every MT940/MT950 statement in ``text`` (headers optional, several per file)."""
    out = []
    for message in parse_mt_file(text):
        if message.mt_type not in ("940", "950", "942", None):
            continue
        # Some files concatenate statements inside one block 4: split on each :20:.
        current: list[MtField] = []
        for f in message.fields:
            if f.tag == "20" and current:
                out.append(read_statement(_part(message, current)))
                current = []
            current.append(f)
        out.append(read_statement(_part(message, current)))
    if not out:
        raise MtSyntaxError("no MT940/MT950 statement found", [FieldError("line 1", "none")])
    return out


def _part(message: MtMessage, fields: list[MtField]) -> MtMessage:
    return MtMessage(
        fields=fields,
        basic_header=message.basic_header,
        app_header=message.app_header,
        first_line=fields[0].line if fields else message.first_line,
        mt_hint=message.mt_hint,
    )


parse_mt940 = parse_mt_statements
parse_mt950 = parse_mt_statements


def _date6(text: str, line: int) -> dt.date:
    try:
        return dt.datetime.strptime(text, "%y%m%d").date()
    except ValueError:
        raise MtSyntaxError(
            f"bad date {text!r}", [FieldError(f"line {line}", "not YYMMDD")]
        ) from None


def _balance(f: MtField | None, kind: str) -> Balance | None:
    if f is None:
        return None
    match = _BAL.match(f.value.strip())
    if not match:
        raise MtSyntaxError(
            f":{f.tag}: is not a balance", [FieldError(f"line {f.line}", "bad balance")]
        )
    mark, date, ccy, amount = match.groups()
    return Balance(
        amount=_amount(amount, f.line),
        currency=ccy,
        date=_date6(date, f.line),
        credit_debit="CRDT" if mark == "C" else "DBIT",
        kind=kind,
    )


def _amount(text: str, line: int) -> Decimal:
    try:
        return parse_amount(text)
    except ValueError as exc:
        raise MtSyntaxError(str(exc), [FieldError(f"line {line}", str(exc))]) from None


def read_statement(message: MtMessage) -> Statement:
    f20 = message.get("20")
    f25 = message.get("25", "25P")
    if f20 is None or f25 is None:
        raise MtSyntaxError(
            "statement needs :20: and :25:",
            [FieldError(f"line {message.first_line}", "missing :20: or :25:")],
        )
    seq, page = None, None
    f28 = message.get("28C", "28")
    if f28 is not None:
        parts = f28.value.strip().split("/")
        seq = int(parts[0]) if parts[0].isdigit() else None
        page = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
    opening_f = message.get("60F", "60M")
    closing_f = message.get("62F", "62M")
    opening = _balance(opening_f, "OPBD" if opening_f and opening_f.tag == "60F" else "ITBD")
    closing = _balance(closing_f, "CLBD" if closing_f and closing_f.tag == "62F" else "ITBD")
    currency = (opening or closing).currency if (opening or closing) else None  # type: ignore[union-attr]
    entries: list[StatementEntry] = []
    fields = message.fields
    for i, f in enumerate(fields):
        if f.tag != "61":
            continue
        info = fields[i + 1].value if i + 1 < len(fields) and fields[i + 1].tag == "86" else None
        entries.append(_entry(f, info, currency or "", opening.date if opening else None))
    return Statement(
        source=f"MT{message.mt_type or '940'}",
        statement_id=f20.value.strip(),
        account=f25.value.split("\n")[0].strip(),
        currency=currency,
        sequence=seq,
        page=page,
        opening_balance=opening,
        closing_balance=closing,
        entries=entries,
    )


def _entry(f: MtField, info: str | None, currency: str, anchor: dt.date | None) -> StatementEntry:
    match = _61.match(f.value)
    if not match:
        raise MtSyntaxError(
            ":61: is not a statement line", [FieldError(f"line {f.line}", "bad :61:")]
        )
    value_date = _date6(match["value"], f.line)
    booking = None
    if match["entry"]:
        month, day = int(match["entry"][:2]), int(match["entry"][2:])
        # The entry date has no year: take the one closest to the value date.
        candidates = []
        for year in (value_date.year - 1, value_date.year, value_date.year + 1):
            try:
                candidates.append(dt.date(year, month, day))
            except ValueError:
                continue
        booking = min(candidates, key=lambda d: abs((d - value_date).days)) if candidates else None
    mark = match["mark"]
    text = " ".join(filter(None, [match["extra"], info])) or None
    cust = (match["cust"] or "").strip()
    refs_text = (info or "") + "\n" + (match["extra"] or "")
    uetrs = tuple(dict.fromkeys(u.lower() for u in _UETR.findall(refs_text)))
    e2e = [m.strip() for m in _EREF.findall(refs_text)]
    if cust and cust != "NONREF":
        e2e.append(cust)
    return StatementEntry(
        amount=_amount(match["amount"], f.line),
        currency=currency,
        credit_debit="CRDT" if mark.endswith("C") else "DBIT",
        booking_date=booking,
        value_date=value_date,
        entry_ref=cust or None,
        account_servicer_ref=(match["bank"] or "").strip() or None,
        end_to_end_ids=tuple(dict.fromkeys(e2e)),
        uetrs=uetrs,
        reversal=mark.startswith("R"),
        transaction_code=match["type"],
        details=" ".join(text.split()) if text else None,
    )


def build_mt940(
    statement: Statement,
    *,
    sender_bic: str,
    receiver_bic: str,
    max_entries_per_page: int = 100,
    mt_type: str = "940",
    report: LossReport | None = None,
) -> list[str]:
    """One MT940 per page: 28C numbers pages; intermediate pages carry 60M/62M."""
    report = report if report is not None else LossReport()
    if statement.opening_balance is None or statement.closing_balance is None:
        raise MtSyntaxError("MT940 needs opening and closing balances", [])
    pages: list[Sequence[StatementEntry]] = [
        statement.entries[i : i + max_entries_per_page]
        for i in range(0, max(len(statement.entries), 1), max_entries_per_page)
    ]
    running = statement.opening_balance.signed
    currency = statement.opening_balance.currency
    out = []
    for number, page in enumerate(pages, start=1):
        first, last = number == 1, number == len(pages)
        fields = [
            ("20", to_x(statement.statement_id, "/20", report)[:16]),
            ("25", statement.account[:35]),
            ("28C", f"{statement.sequence or 1}/{number}"),
        ]
        open_date = statement.opening_balance.date
        fields.append(("60F" if first else "60M", _bal(running, currency, open_date)))
        for entry in page:
            fields.append(("61", _line61(entry, report)))
            # A UETR (36) does not fit :61: supplementary details (34x): it goes in :86:.
            info = " ".join([*(f"/UETR/{u}" for u in entry.uetrs[:1]), entry.details or ""]).strip()
            if mt_type == "940" and info:
                lines = wrap(to_x(info, "/86", report), 65)
                if len(lines) > 6:
                    report.add(LossCode.TRUNCATED, "/86", info, "\n".join(lines[:6]))
                fields.append(("86", "\n".join(lines[:6])))
            elif entry.uetrs:
                report.add(LossCode.NOT_MAPPED, "/61/uetr", entry.uetrs[0])
            running += entry.amount if entry.credit_debit == "CRDT" else -entry.amount
        close = statement.closing_balance
        fields.append(
            (
                "62F" if last else "62M",
                _bal(running if not last else close.signed, currency, close.date),
            )
        )
        message = MtMessage(
            fields=[MtField(t, v, 0) for t, v in fields],
            basic_header=f"F01{_lt(sender_bic)}0000000000",
            app_header=f"I{mt_type}{_lt(receiver_bic)}N",
        )
        out.append(write_mt(message))
    return out


def _lt(bic: str) -> str:
    bic11 = bic if len(bic) == 11 else bic[:8] + "XXX"
    return bic11[:8] + "A" + bic11[8:]


def _bal(signed: Decimal, currency: str, date: dt.date) -> str:
    mark = "C" if signed >= 0 else "D"
    return f"{mark}{date:%y%m%d}{currency}{format_amount(abs(signed))}"


def _line61(e: StatementEntry, report: LossReport) -> str:
    value = e.value_date or e.booking_date or dt.date(1970, 1, 1)
    entry = f"{e.booking_date:%m%d}" if e.booking_date else ""
    mark = ("R" if e.reversal else "") + ("C" if e.credit_debit == "CRDT" else "D")
    ref = e.end_to_end_ids[0] if e.end_to_end_ids else (e.entry_ref or "NONREF")
    ref = to_x(ref, "/61/reference", report)[:16]
    code = e.transaction_code if e.transaction_code and len(e.transaction_code) == 4 else "NTRF"
    line = f"{value:%y%m%d}{entry}{mark}{format_amount(e.amount)}{code}{ref}"
    if e.account_servicer_ref:
        line += "//" + to_x(e.account_servicer_ref, "/61/servicer", report)[:16]
    return line
