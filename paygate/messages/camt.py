"""camt.053 statements and camt.054 notifications in (any version), camt.053 out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from lxml import etree

from paygate.errors import UnsupportedMessage
from paygate.messages.mx import Builder, Reader, format_amount, format_datetime, serialize
from paygate.messages.statements import Balance, Statement, StatementEntry
from paygate.messages.xsd import IsoDocument, default_registry, read_iso

CAMT053 = "camt.053.001.08"
CAMT054 = "camt.054.001.08"
_OPENING = ("OPBD", "PRCD", "ITBD")
_CLOSING = ("CLBD",)


def parse_camt053(data: bytes) -> list[Statement]:
    return read_camt(read_iso(data), "camt.053")


def parse_camt054(data: bytes) -> list[Statement]:
    return read_camt(read_iso(data), "camt.054")


def read_camt(iso: IsoDocument, kind: str) -> list[Statement]:
    if iso.kind != kind:
        raise UnsupportedMessage(f"expected {kind}, got {iso.message_id}")
    body = Reader(iso.body, iso.namespace, "/Document/" + iso.body.tag.split("}")[-1])
    tag = "Stmt" if kind == "camt.053" else "Ntfctn"
    created = body.datetime("GrpHdr/CreDtTm")
    return [_statement(s, iso.message_id, created) for s in body.children(tag)]


def _statement(s: Reader, source: str, created: dt.datetime | None) -> Statement:
    balances = [_balance(b) for b in s.children("Bal")]
    opening = next((b for code in _OPENING for b in balances if b.kind == code), None)
    closing = next((b for b in balances if b.kind in _CLOSING), None)
    seq = s.text("ElctrncSeqNb")
    page = s.text("StmtPgntn/PgNb")
    return Statement(
        source=source,
        statement_id=s.text("Id") or "",
        account=s.text("Acct/Id/IBAN") or s.text("Acct/Id/Othr/Id") or "",
        currency=s.text("Acct/Ccy"),
        sequence=int(seq) if seq and seq.isdigit() else None,
        page=int(page) if page and page.isdigit() else None,
        opening_balance=opening,
        closing_balance=closing,
        entries=[_entry(e) for e in s.children("Ntry")],
        created=s.datetime("CreDtTm") or created,
    )


def _balance(b: Reader) -> Balance:
    amount = b.amount("Amt") or (Decimal(0), "")
    return Balance(
        amount=amount[0],
        currency=amount[1],
        date=b.date("Dt/Dt") or (b.datetime("Dt/DtTm") or dt.datetime.min).date(),
        credit_debit=b.text("CdtDbtInd") or "CRDT",
        kind=b.text("Tp/CdOrPrtry/Cd") or b.text("Tp/CdOrPrtry/Prtry") or "",
    )


def _date(r: Reader, path: str) -> dt.date | None:
    return r.date(path + "/Dt") or (value.date() if (value := r.datetime(path + "/DtTm")) else None)


def _kids(element: etree._Element) -> dict[str, etree._Element]:
    """First child per local name, in one pass (entries are read field by field)."""
    out: dict[str, etree._Element] = {}
    for child in element:
        tag = child.tag
        if isinstance(tag, str):
            out.setdefault(tag[tag.find("}") + 1 :], child)
    return out


def _txt(kids: dict[str, etree._Element], name: str) -> str | None:
    node = kids.get(name)
    if node is None or node.text is None:
        return None
    return node.text.strip() or None


def _entry(e: Reader) -> StatementEntry:
    kids = _kids(e.element)
    amount = e.amount("Amt") or (Decimal(0), "")
    e2e: list[str] = []
    tx_ids: list[str] = []
    uetrs: list[str] = []
    instr: list[str] = []
    texts: list[str] = []
    dtls = kids.get("NtryDtls")
    batch_n = batch_total = None
    if dtls is not None:
        d = Reader(dtls, e.ns, e.where + "/NtryDtls")
        for tx in d.children("TxDtls"):
            refs = tx.child("Refs")
            if refs is not None:
                ref_kids = _kids(refs.element)
                for name, bucket in (
                    ("EndToEndId", e2e),
                    ("TxId", tx_ids),
                    ("UETR", uetrs),
                    ("InstrId", instr),
                ):
                    value = _txt(ref_kids, name)
                    if value and value != "NOTPROVIDED":
                        bucket.append(value)
            texts.extend(t for t in tx.texts("RmtInf/Ustrd") if t)
        batch_n = d.text("Btch/NbOfTxs")
        batch_total = d.amount("Btch/TtlAmt")
    fees = None
    if "Chrgs" in kids:
        fees = sum((a for a, _ in _amounts(e, "Chrgs/Rcrd/Amt")), Decimal(0)) or None
        if fees is None:
            fees = sum((a for a, _ in _amounts(e, "Chrgs/Amt")), Decimal(0)) or None
    info = _txt(kids, "AddtlNtryInf")
    code = None
    if "BkTxCd" in kids:
        code = e.text("BkTxCd/Prtry/Cd") or e.text("BkTxCd/Domn/Fmly/SubFmlyCd")
    return StatementEntry(
        amount=amount[0],
        currency=amount[1],
        credit_debit=_txt(kids, "CdtDbtInd") or "CRDT",
        booking_date=_date(e, "BookgDt") if "BookgDt" in kids else None,
        value_date=_date(e, "ValDt") if "ValDt" in kids else None,
        entry_ref=_txt(kids, "NtryRef"),
        account_servicer_ref=_txt(kids, "AcctSvcrRef"),
        end_to_end_ids=tuple(e2e),
        tx_ids=tuple(tx_ids),
        uetrs=tuple(uetrs),
        instruction_ids=tuple(instr),
        batch_count=int(batch_n) if batch_n and batch_n.isdigit() else None,
        batch_total=batch_total[0] if batch_total else None,
        fees=fees,
        reversal=(_txt(kids, "RvslInd") or "").lower() == "true",
        transaction_code=code,
        details=" ".join([info] if info else texts) or None,
    )


def _amounts(r: Reader, path: str) -> list[tuple[Decimal, str]]:
    out = []
    for node in r.children(path):
        value = node.amount(".")
        if value is not None:
            out.append(value)
    return out


def build_camt053(
    statements: Sequence[Statement], *, msg_id: str, created: dt.datetime, validate: bool = True
) -> bytes:
    """camt.053.001.08 with one Stmt per statement; entry references travel in TxDtls."""
    b = Builder(CAMT053)
    doc = b.document()
    body = b.sub(doc, "BkToCstmrStmt")
    hdr = b.sub(body, "GrpHdr")
    b.sub(hdr, "MsgId", msg_id)
    b.sub(hdr, "CreDtTm", format_datetime(created))
    for st in statements:
        s = b.sub(body, "Stmt")
        b.sub(s, "Id", st.statement_id)
        if st.page is not None:
            pg = b.sub(s, "StmtPgntn")
            b.sub(pg, "PgNb", str(st.page))
            b.sub(pg, "LastPgInd", "true")
        b.opt(s, "ElctrncSeqNb", str(st.sequence) if st.sequence is not None else None)
        b.sub(s, "CreDtTm", format_datetime(st.created or created))
        acct = b.sub(s, "Acct")
        ident = b.sub(acct, "Id")
        if len(st.account) > 14 and st.account[:2].isalpha() and st.account[2:4].isdigit():
            b.sub(ident, "IBAN", st.account)
        else:
            b.path(ident, "Othr/Id", st.account)
        b.opt(acct, "Ccy", st.currency)
        for bal in (st.opening_balance, st.closing_balance):
            if bal is not None:
                _write_balance(b, s, bal)
        for entry in st.entries:
            _write_entry(b, s, entry)
    if validate:
        default_registry().validate(IsoDocument(doc, None, CAMT053))
    return serialize(doc)


def _write_balance(b: Builder, parent: etree._Element, bal: Balance) -> None:
    node = b.sub(parent, "Bal")
    b.path(node, "Tp/CdOrPrtry/Cd", bal.kind)
    b.amount(node, "Amt", bal.amount, bal.currency)
    b.sub(node, "CdtDbtInd", bal.credit_debit)
    b.path(node, "Dt/Dt", bal.date.isoformat())


def _write_entry(b: Builder, parent: etree._Element, e: StatementEntry) -> None:
    node = b.sub(parent, "Ntry")
    b.opt(node, "NtryRef", e.entry_ref)
    b.amount(node, "Amt", e.amount, e.currency)
    b.sub(node, "CdtDbtInd", e.credit_debit)
    if e.reversal:
        b.sub(node, "RvslInd", "true")
    b.path(node, "Sts/Cd", "BOOK")
    if e.booking_date:
        b.path(node, "BookgDt/Dt", e.booking_date.isoformat())
    if e.value_date:
        b.path(node, "ValDt/Dt", e.value_date.isoformat())
    b.opt(node, "AcctSvcrRef", e.account_servicer_ref)
    b.path(node, "BkTxCd/Prtry/Cd", e.transaction_code or "NTRF")
    n = max(len(e.end_to_end_ids), len(e.tx_ids), len(e.uetrs))
    if n or e.batch_count:
        dtls = b.sub(node, "NtryDtls")
        if e.batch_count is not None:
            btch = b.sub(dtls, "Btch")
            b.sub(btch, "NbOfTxs", str(e.batch_count))
            if e.batch_total is not None:
                b.amount(btch, "TtlAmt", e.batch_total, e.currency)
        for i in range(n):
            refs = b.path(dtls, "TxDtls/Refs")
            # TransactionReferences6 order: EndToEndId, UETR, TxId.
            if i < len(e.end_to_end_ids):
                b.sub(refs, "EndToEndId", e.end_to_end_ids[i])
            if i < len(e.uetrs):
                b.sub(refs, "UETR", e.uetrs[i])
            if i < len(e.tx_ids):
                b.sub(refs, "TxId", e.tx_ids[i])
    b.opt(node, "AddtlNtryInf", e.details[:500] if e.details else None)


def build_camt054(
    notifications: Sequence[Statement],
    *,
    msg_id: str,
    created: dt.datetime,
    validate: bool = True,
) -> bytes:
    """camt.054.001.08 debit/credit notification, one Ntfctn per statement value."""
    b = Builder(CAMT054)
    doc = b.document()
    body = b.sub(doc, "BkToCstmrDbtCdtNtfctn")
    hdr = b.sub(body, "GrpHdr")
    b.sub(hdr, "MsgId", msg_id)
    b.sub(hdr, "CreDtTm", format_datetime(created))
    for st in notifications:
        s = b.sub(body, "Ntfctn")
        b.sub(s, "Id", st.statement_id)
        b.opt(s, "ElctrncSeqNb", str(st.sequence) if st.sequence is not None else None)
        b.sub(s, "CreDtTm", format_datetime(st.created or created))
        acct = b.sub(s, "Acct")
        ident = b.sub(acct, "Id")
        if len(st.account) > 14 and st.account[:2].isalpha() and st.account[2:4].isdigit():
            b.sub(ident, "IBAN", st.account)
        else:
            b.path(ident, "Othr/Id", st.account)
        b.opt(acct, "Ccy", st.currency)
        for entry in st.entries:
            _write_entry(b, s, entry)
    if validate:
        default_registry().validate(IsoDocument(doc, None, CAMT054))
    return serialize(doc)


__all__ = ["build_camt053", "build_camt054", "format_amount", "parse_camt053", "parse_camt054"]
