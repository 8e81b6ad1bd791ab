"""Statements and notifications across generations, each way with a loss report.

- camt.053 -> MT940 (or MT950): pages of ``max_entries`` with 28C page numbers and
  intermediate 60M/62M balances (``build_mt940``); MT940/MT950 -> camt.053;
- MT900 (debit) / MT910 (credit) confirmation <-> camt.054 notification, one entry each.

CBPR+ mapping for MT900/910: :20: -> Ntry/AcctSvcrRef, :21: -> TxDtls/Refs/EndToEndId,
:25: -> Acct, :32A: -> ValDt, amount and currency, :72: -> AddtlNtryInf, {121:} -> UETR.
"""

from __future__ import annotations

import datetime as dt
import uuid

from paygate.errors import TranslationStopped
from paygate.messages.camt import build_camt053, build_camt054, parse_camt053, parse_camt054
from paygate.messages.loss import LossCode, LossReport, mt_input
from paygate.messages.mt.blocks import MtField, MtMessage, parse_mt_file, write_mt
from paygate.messages.mt.charset import reference16, to_x, wrap
from paygate.messages.mt.mt103 import _date6, _lt
from paygate.messages.mt.rules import format_amount, parse_amount, validate_mt, validate_written
from paygate.messages.mt.statement import build_mt940, parse_mt_statements
from paygate.messages.statements import Statement, StatementEntry
from paygate.messages.xsd import read_iso


def _hdr_bic(data: bytes, side: str) -> str | None:
    iso = read_iso(data)
    if side == "Svcr":
        for el in iso.document.iter("{*}Svcr"):
            for bic in el.iter("{*}BICFI"):
                return (bic.text or "").strip() or None
        return None
    if iso.app_hdr is None:
        return None
    for el in iso.app_hdr.iter("{*}" + side):
        for bic in el.iter("{*}BICFI"):
            return (bic.text or "").strip() or None
    return None


def _bics(data: bytes, sender: str | None, receiver: str | None) -> tuple[str, str]:
    sender = sender or _hdr_bic(data, "Fr") or _hdr_bic(data, "Svcr")
    receiver = receiver or _hdr_bic(data, "To")
    if not sender or not receiver:
        raise TranslationStopped(
            "sender and receiver BICs are needed for the MT header (AppHdr Fr/To, the "
            "account servicer, or --sender/--receiver)"
        )
    return sender, receiver


def camt053_to_mt940(
    data: bytes,
    *,
    sender_bic: str | None = None,
    receiver_bic: str | None = None,
    max_entries: int = 100,
    mt_type: str = "940",
) -> tuple[str, LossReport]:
    """Every statement of a camt.053 as MT940 pages (28C n/page, 60M/62M in between)."""
    report = LossReport()
    sender, receiver = _bics(data, sender_bic, receiver_bic)
    statements = parse_camt053(data)
    if not statements:
        raise TranslationStopped("camt.053 has no statement")
    pages: list[str] = []
    for i, st in enumerate(statements):
        for e in st.entries:
            if e.batch_count is not None:
                report.add(LossCode.NOT_MAPPED, f"/Stmt[{i}]/Ntry/Btch", str(e.batch_count))
            if e.fees is not None:
                report.add(LossCode.NOT_MAPPED, f"/Stmt[{i}]/Ntry/Chrgs", str(e.fees))
        pages.extend(
            build_mt940(
                st,
                sender_bic=sender,
                receiver_bic=receiver,
                max_entries_per_page=max_entries,
                mt_type=mt_type,
                report=report,
            )
        )
    return "".join(pages), report


@mt_input
def mt940_to_camt053(text: str, *, msg_id: str, created: dt.datetime) -> tuple[bytes, LossReport]:
    report = LossReport()
    statements = parse_mt_statements(text)
    return build_camt053(statements, msg_id=msg_id, created=created), report


# --- MT900 / MT910 <-> camt.054 ----------------------------------------------------------


def read_confirmation(message: MtMessage, report: LossReport) -> Statement:
    """MT900 or MT910 -> a one-entry notification value."""
    mt = message.mt_type
    if mt not in ("900", "910"):
        raise TranslationStopped(f"expected MT900 or MT910, got MT{mt}")
    validate_mt(message)
    get = message.get
    f20, f21, f25, f32a = get("20"), get("21"), get("25", "25P"), get("32A")
    assert f20 and f21 and f25 and f32a  # validate_mt made sure
    value_date = _date6(f32a.value[:6])
    currency = f32a.value[6:9]
    f72 = get("72")
    for f in message.fields:
        if f.number in ("50", "52", "56") or f.tag == "13D":
            report.add(LossCode.NOT_MAPPED, f"/{f.tag}", f.value, "related party / time")
    uetr = message.user_header.get("121")
    if uetr:
        try:
            uetr = str(uuid.UUID(uetr))
        except ValueError:
            raise TranslationStopped(f"block 3 {{121:{uetr}}} is not a UUID") from None
    entry = StatementEntry(
        amount=parse_amount(f32a.value[9:]),
        currency=currency,
        credit_debit="DBIT" if mt == "900" else "CRDT",
        booking_date=value_date,
        value_date=value_date,
        account_servicer_ref=f20.value,
        end_to_end_ids=(f21.value,) if f21.value != "NONREF" else (),
        uetrs=(uetr,) if uetr else (),
        details=" ".join(f72.value.split("\n")) if f72 else None,
    )
    return Statement(
        source=f"MT{mt}",
        statement_id=f20.value,
        account=f25.value.split("\n")[0],
        currency=currency,
        entries=[entry],
    )


@mt_input
def mt900_to_camt054(text: str, *, msg_id: str, created: dt.datetime) -> tuple[bytes, LossReport]:
    report = LossReport()
    notes = [read_confirmation(m, report) for m in parse_mt_file(text)]
    return build_camt054(notes, msg_id=msg_id, created=created), report


def camt054_to_mt900(
    data: bytes, *, sender_bic: str | None = None, receiver_bic: str | None = None
) -> tuple[str, LossReport]:
    """Each entry of a camt.054 -> an MT900 (debit) or MT910 (credit)."""
    report = LossReport()
    sender, receiver = _bics(data, sender_bic, receiver_bic)
    out: list[str] = []
    for i, note in enumerate(parse_camt054(data)):
        for j, e in enumerate(note.entries):
            path = f"/Ntfctn[{i}]/Ntry[{j}]"
            ref = e.account_servicer_ref or e.entry_ref or note.statement_id
            related = (e.end_to_end_ids or e.tx_ids or e.instruction_ids or ("NONREF",))[0]
            if len(e.end_to_end_ids) + len(e.tx_ids) > 2:
                report.add(LossCode.NOT_MAPPED, path + "/NtryDtls", "several transactions")
            date = e.value_date or e.booking_date
            if date is None:
                raise TranslationStopped(f"{path} has no value or booking date for :32A:")
            fields = [
                ("20", reference16(ref, path + "/AcctSvcrRef", report)),
                ("21", reference16(related, path + "/Refs", report)),
                ("25", note.account[:35]),
                ("32A", f"{date:%y%m%d}{e.currency}{format_amount(e.amount)}"),
            ]
            mt = "900" if e.credit_debit == "DBIT" else "910"
            header = {"121": e.uetrs[0]} if e.uetrs else {}
            if mt == "910":
                # MT910 needs the ordering party (50a or 52a): camt.054 without RltdPties
                # does not name it, so the sender stands in as ordering institution.
                fields.append(("52A", sender))
                report.add(LossCode.DEFAULTED, path + "/RltdAgts/DbtrAgt", "", sender)
            if e.details:
                lines = wrap(to_x(e.details, path + "/AddtlNtryInf", report), 35)
                if len(lines) > 6:
                    report.add(LossCode.TRUNCATED, path + "/AddtlNtryInf", e.details)
                fields.append(("72", "\n".join(lines[:6])))
            message = MtMessage(
                fields=[MtField(t, v, 0) for t, v in fields],
                basic_header=f"F01{_lt(sender)}0000000000",
                app_header=f"I{mt}{_lt(receiver)}N",
                user_header=header,
            )
            text = write_mt(message)
            validate_written(message, text)
            out.append(text)
    if not out:
        raise TranslationStopped("camt.054 has no entry")
    return "".join(out), report
