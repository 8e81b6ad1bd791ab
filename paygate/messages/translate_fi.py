"""MT <-> MX for bank transfers, returns and rejections, each way with a loss report.

- MT202 / MT202COV <-> pacs.009 (core / cover);
- MT103 with ``:72:/RETN/`` <-> pacs.004 (return);
- MT199 ``:79:/REJT/`` <-> pacs.002 (RJCT).

Mappings follow published CBPR+ practice: :20: -> InstrId (and TxId), :21: -> EndToEndId,
UETR from block 3 {121:} only (a missing UETR stops the translation, it is never made up).
"""

from __future__ import annotations

import datetime as dt
import uuid

from paygate.domain import Money
from paygate.errors import TranslationStopped
from paygate.messages.loss import LossCode, LossReport, mt_input
from paygate.messages.mt.blocks import MtField, MtMessage, parse_mt_file, write_mt
from paygate.messages.mt.charset import reference16
from paygate.messages.mt.mt103 import _date6, _field_32a, _lt
from paygate.messages.mt.mt202 import build_mt202, join_72, read_mt202, split_72
from paygate.messages.mt.rules import format_amount, parse_amount, validate_mt, validate_written
from paygate.messages.pacs002 import TxStatus, build_pacs002, parse_pacs002
from paygate.messages.pacs004 import ReturnTx, build_pacs004, parse_pacs004
from paygate.messages.pacs009 import build_pacs009, parse_pacs009
from paygate.messages.xsd import read_iso

_CHARGES_IN = {"OUR": "DEBT", "BEN": "CRED", "SHA": "SHAR"}
_CHARGES_OUT = {v: k for k, v in _CHARGES_IN.items()}


def _one(text: str, mt: str) -> MtMessage:
    messages = parse_mt_file(text)
    if len(messages) != 1:
        raise TranslationStopped(f"expected one MT{mt}, found {len(messages)}")
    return messages[0]


def _uetr(message: MtMessage) -> uuid.UUID:
    raw = message.user_header.get("121")
    if not raw:
        raise TranslationStopped(f"MT{message.mt_type} has no UETR in block 3 {{121:}}")
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise TranslationStopped(f"block 3 {{121:{raw}}} is not a UUID") from None


# --- MT202 / MT202COV <-> pacs.009 -------------------------------------------------------


@mt_input
def mt202_to_pacs009(text: str, *, msg_id: str, created: dt.datetime) -> tuple[bytes, LossReport]:
    report = LossReport()
    message = _one(text, "202")
    _uetr(message)
    mt = read_mt202(message)
    for f in mt.unmapped:
        note = {
            "13C": "time indication: no place in pacs.009 SttlmTmReq for a free code",
            "72": "sequence B sender to receiver information: no place in the underlying",
        }.get(f.tag, "party identifier option B: no place in FinancialInstitutionIdentification")
        report.add(LossCode.NOT_MAPPED, f"/{f.tag}", f.value, note)
    # 53a/54a name the correspondents the transfer is reimbursed through: settlement by
    # account (INDA) with reimbursement agents; pacs.009 holds those in GrpHdr/SttlmInf.
    reimbursement = mt.senders_correspondent or mt.receivers_correspondent
    xml = build_pacs009(
        [mt.transfer],
        msg_id=msg_id,
        created=created,
        settlement_method="INGA" if reimbursement else "INDA",
        instructing_reimbursement_agent=mt.senders_correspondent,
        instructed_reimbursement_agent=mt.receivers_correspondent,
    )
    return xml, report


def pacs009_to_mt202(data: bytes) -> tuple[str, LossReport]:
    report = LossReport()
    message = parse_pacs009(data)
    if len(message.transfers) != 1:
        report.add(LossCode.STOP, "/CdtTrfTxInf", str(len(message.transfers)))
        raise TranslationStopped(
            f"pacs.009 carries {len(message.transfers)} transactions; an MT202 holds one"
        )
    [t] = message.transfers
    sender = t.instructing_agent_bic or t.debtor.bic
    receiver = t.instructed_agent_bic or (t.creditor_agent or t.creditor).bic
    if not sender or not receiver:
        raise TranslationStopped("instructing and instructed agent BICs are needed for an MT202")
    if t.tx_id != t.instruction_id:
        report.add(LossCode.NOT_MAPPED, "/PmtId/TxId", t.tx_id, ":20: carries InstrId")
    if t.debtor_agent is not None:
        report.add(LossCode.NOT_MAPPED, "/DbtrAgt", t.debtor_agent.bic or "", "no MT202 field")
    text = build_mt202(
        t,
        sender_bic=sender,
        receiver_bic=receiver,
        senders_correspondent=message.instructing_reimbursement_agent,
        receivers_correspondent=message.instructed_reimbursement_agent,
        report=report,
    )
    return text, report


# --- MT103 /RETN/ <-> pacs.004 -----------------------------------------------------------


def _codewords(value: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for code, text in split_72(value):
        out.setdefault(code, text)
    return out


@mt_input
def mt103_return_to_pacs004(
    text: str, *, msg_id: str, created: dt.datetime
) -> tuple[bytes, LossReport]:
    """An MT103 whose :72: starts ``/RETN/`` -> pacs.004 (one return)."""
    report = LossReport()
    message = _one(text, "103")
    message.mt_hint = message.mt_hint or "103"
    validate_mt(message)
    f72 = message.get("72")
    lines = f72.value.split("\n") if f72 else []
    if not lines or not lines[0].startswith("/RETN/"):
        raise TranslationStopped("not a return: MT103 :72: does not start with /RETN/")
    reason = None
    for line in lines[1:]:
        if line.startswith("/") and line.endswith("/") and len(line) in (6, 7):
            reason = line.strip("/")
            break
    if reason is None:
        raise TranslationStopped("MT103 /RETN/ without a reason code line (e.g. /AC01/)")
    words = _codewords(f72.value if f72 else "")
    report.add(LossCode.NOT_MAPPED, "/72/RETN", lines[0][6:], "the field that caused the return")
    f32a = message.get("32A")
    assert f32a is not None  # validate_mt made sure
    f33b = message.get("33B")
    f71a = message.get("71A")
    original = None
    if f33b is not None:
        original = Money(currency=f33b.value[:3], value=parse_amount(f33b.value[3:]))
    for tag in ("50A", "50F", "50K", "59", "59A", "59F"):
        f = message.get(tag)
        if f is not None:
            report.add(LossCode.NOT_MAPPED, f"/{tag}", f.value, "return chain party (RtrChain)")
    if "CHGS" in words:
        report.add(LossCode.NOT_MAPPED, "/72/CHGS", words["CHGS"], "ChrgsInf needs an agent")
    ret = ReturnTx(
        return_id=message.get("20").value,  # type: ignore[union-attr]
        returned_amount=Money(currency=f32a.value[6:9], value=parse_amount(f32a.value[9:])),
        settlement_date=_date6(f32a.value[:6]),
        reason_code=reason,
        original_uetr=_uetr(message),
        original_instruction_id=words.get("MREF"),
        original_end_to_end_id=words.get("TREF"),
        original_amount=original,
        reason_text=words.get("TEXT"),
        charge_bearer=_CHARGES_IN.get(f71a.value) if f71a else None,
        instructing_agent_bic=message.sender_bic,
        instructed_agent_bic=message.receiver_bic,
    )
    return build_pacs004([ret], msg_id=msg_id, created=created), report


def pacs004_to_mt103_return(data: bytes) -> tuple[str, LossReport]:
    report = LossReport()
    message = parse_pacs004(data)
    if len(message.returns) != 1:
        raise TranslationStopped(f"pacs.004 carries {len(message.returns)} returns; MT103 one")
    [r] = message.returns
    if r.original_uetr is None:
        raise TranslationStopped("pacs.004 has no OrgnlUETR for block 3 {121:}")
    if not r.instructing_agent_bic or not r.instructed_agent_bic:
        raise TranslationStopped("InstgAgt and InstdAgt BICs are needed for an MT103")
    words = [("RETN", "99"), (r.reason_code, "")]
    if r.original_instruction_id:
        words.append(("MREF", r.original_instruction_id))
    if r.original_end_to_end_id:
        words.append(("TREF", r.original_end_to_end_id))
    if r.reason_text:
        words.append(("TEXT", r.reason_text))
    f72 = join_72(words, report) or ""
    # The return chain's parties are not in a minimal pacs.004: name them as not provided.
    report.add(LossCode.DEFAULTED, "/50K", "", "NOTPROVIDED")
    report.add(LossCode.DEFAULTED, "/59", "", "NOTPROVIDED")
    fields = [
        ("20", reference16(r.return_id, "/20", report)),
        ("23B", "CRED"),
        ("32A", _field_32a(r.returned_amount, r.settlement_date)),
    ]
    if r.original_amount is not None:
        fields.append(
            ("33B", f"{r.original_amount.currency}{format_amount(r.original_amount.value)}")
        )
    fields += [
        ("50K", "NOTPROVIDED"),
        ("59", "NOTPROVIDED"),
        ("71A", _CHARGES_OUT.get(r.charge_bearer or "", "SHA")),
        ("72", f72),
    ]
    if r.charge_bearer == "SLEV":
        report.add(LossCode.DEFAULTED, "/71A", "SLEV", "SHA")
    mt = MtMessage(
        fields=[MtField(t, v, 0) for t, v in fields],
        basic_header=f"F01{_lt(r.instructing_agent_bic)}0000000000",
        app_header=f"I103{_lt(r.instructed_agent_bic)}N",
        user_header={"121": str(r.original_uetr)},
    )
    text = write_mt(mt)
    validate_written(mt, text)
    return text, report


# --- MT199 /REJT/ <-> pacs.002 -----------------------------------------------------------


def read_mt199_reject(text: str) -> tuple[TxStatus, MtMessage]:
    message = _one(text, "199")
    if message.mt_type != "199":
        raise TranslationStopped(f"expected MT199, got MT{message.mt_type}")
    f79 = message.get("79")
    lines = f79.value.split("\n") if f79 else []
    if not lines or not lines[0].startswith("/REJT/"):
        raise TranslationStopped("not a rejection: MT199 :79: does not start with /REJT/")
    reason = None
    for line in lines[1:]:
        if line.startswith("/") and line.endswith("/") and len(line) in (6, 7):
            reason = line.strip("/")
            break
    words = _codewords("\n".join(lines[1:]))
    f21 = message.get("21")
    status = TxStatus(
        original_end_to_end_id=words.get("TREF"),
        original_tx_id=None,
        original_uetr=_uetr(message),
        status="RJCT",
        reason_code=reason,
        reason_text=words.get("TEXT"),
        original_instruction_id=words.get("MREF") or (f21.value if f21 else None),
    )
    return status, message


@mt_input
def mt199_to_pacs002(text: str, *, msg_id: str, created: dt.datetime) -> tuple[bytes, LossReport]:
    report = LossReport()
    status, message = read_mt199_reject(text)
    f20 = message.get("20")
    original_msg = status.original_instruction_id or (f20.value if f20 else "NOTPROVIDED")
    if status.original_instruction_id is None:
        report.add(LossCode.DEFAULTED, "/OrgnlMsgId", "", original_msg)
    xml = build_pacs002([status], msg_id=msg_id, created=created, original_msg_id=original_msg)
    return xml, report


def pacs002_to_mt199(
    data: bytes, *, sender_bic: str | None = None, receiver_bic: str | None = None
) -> tuple[str, LossReport]:
    """A rejection (RJCT) in a pacs.002 -> MT199 /REJT/. Other statuses stop."""
    report = LossReport()
    iso = read_iso(data)
    statuses = [s for s in parse_pacs002(data) if not s.group_level]
    if len(statuses) != 1:
        raise TranslationStopped(f"pacs.002 carries {len(statuses)} statuses; an MT199 one")
    [st] = statuses
    if st.status != "RJCT":
        raise TranslationStopped(f"only a rejection becomes MT199 /REJT/, not {st.status}")
    if st.original_uetr is None:
        raise TranslationStopped("pacs.002 has no OrgnlUETR for block 3 {121:}")
    sender = sender_bic or _hdr_bic(iso.app_hdr, "Fr")
    receiver = receiver_bic or _hdr_bic(iso.app_hdr, "To")
    if not sender or not receiver:
        raise TranslationStopped("sender and receiver BICs needed (AppHdr Fr/To or options)")
    words = [("REJT", "99"), (st.reason_code or "NARR", "")]
    if st.original_instruction_id:
        words.append(("MREF", st.original_instruction_id))
    if st.original_end_to_end_id:
        words.append(("TREF", st.original_end_to_end_id))
    if st.reason_text:
        words.append(("TEXT", st.reason_text))
    body = join_72(words, report) or ""
    ref = st.original_instruction_id or st.original_tx_id or st.original_end_to_end_id or "NONREF"
    fields = [
        ("20", reference16(ref, "/20", report)),
        ("21", reference16(ref, "/21", report)),
        ("79", body),
    ]
    mt = MtMessage(
        fields=[MtField(t, v, 0) for t, v in fields],
        basic_header=f"F01{_lt(sender)}0000000000",
        app_header=f"I199{_lt(receiver)}N",
        user_header={"121": str(st.original_uetr)},
    )
    text = write_mt(mt)
    validate_written(mt, text)
    return text, report


def _hdr_bic(app_hdr: object, side: str) -> str | None:
    if app_hdr is None:
        return None
    for el in app_hdr.iter("{*}" + side):  # type: ignore[attr-defined]
        for bic in el.iter("{*}BICFI"):
            return (bic.text or "").strip() or None
    return None


__all__ = [
    "mt103_return_to_pacs004",
    "mt199_to_pacs002",
    "mt202_to_pacs009",
    "pacs002_to_mt199",
    "pacs004_to_mt103_return",
    "pacs009_to_mt202",
]
