"""camt.053.001.08 rendering (validated against the official XSD in the tests).

Each payment line is one Ntry (NtryRef = TxId, AcctSvcrRef = rail reference, TxDtls/Refs with
EndToEndId, TxId, UETR). A batch booking is one Ntry with NtryDtls/Btch (NbOfTxs, TtlAmt) and
one TxDtls per item. Fees are separate debit entries (BkTxCd ACMT/MDOP/CHRG) whose TxDtls carry
the references of the payment they were charged for.
"""

from __future__ import annotations

from decimal import Decimal

from lxml import etree

from simulators.statements.model import FEE, Item, Line, Statement
from simulators.tariff import minor_units

NS = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"


def _el(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, f"{{{NS}}}{name}")
    if text is not None:
        el.text = text
    return el


def _amt(parent: etree._Element, name: str, amount: Decimal, ccy: str) -> None:
    _el(parent, name, f"{abs(amount):.{minor_units(ccy)}f}").set("Ccy", ccy)


def _balance(parent: etree._Element, code: str, amount: Decimal, stmt: Statement) -> None:
    bal = _el(parent, "Bal")
    _el(_el(_el(bal, "Tp"), "CdOrPrtry"), "Cd", code)
    _amt(bal, "Amt", amount, stmt.currency)
    _el(bal, "CdtDbtInd", "CRDT" if amount >= 0 else "DBIT")
    _el(_el(bal, "Dt"), "Dt", stmt.day.isoformat())


def _tx_details(parent: etree._Element, item: Item, amount: Decimal, ccy: str) -> None:
    tx = _el(parent, "TxDtls")
    refs = _el(tx, "Refs")
    if item.instr_id:
        _el(refs, "InstrId", item.instr_id)
    if item.end_to_end_id:
        _el(refs, "EndToEndId", item.end_to_end_id)
    if item.uetr:
        _el(refs, "UETR", item.uetr)
    _el(refs, "TxId", item.reference)
    _amt(tx, "Amt", amount, ccy)
    _el(tx, "CdtDbtInd", "DBIT")
    if item.creditor_name or item.creditor_account:
        parties = _el(tx, "RltdPties")
        if item.creditor_name:
            _el(_el(_el(parties, "Cdtr"), "Pty"), "Nm", item.creditor_name[:140])
        if item.creditor_account:
            acct = _el(parties, "CdtrAcct")
            _el(_el(_el(acct, "Id"), "Othr"), "Id", item.creditor_account[:34])


def _entry(stmt_el: etree._Element, line: Line, stmt: Statement) -> None:
    ccy = stmt.currency
    ntry = _el(stmt_el, "Ntry")
    _el(ntry, "NtryRef", line.entry_ref[:35])
    _amt(ntry, "Amt", line.amount, ccy)
    _el(ntry, "CdtDbtInd", "DBIT")
    _el(_el(ntry, "Sts"), "Cd", "BOOK")
    _el(_el(ntry, "BookgDt"), "Dt", line.booking_date.isoformat())
    _el(_el(ntry, "ValDt"), "Dt", line.value_date.isoformat())
    _el(ntry, "AcctSvcrRef", line.bank_ref)
    domain = _el(_el(ntry, "BkTxCd"), "Domn")
    if line.kind == FEE:
        _el(domain, "Cd", "ACMT")
        fmly = _el(domain, "Fmly")
        _el(fmly, "Cd", "MDOP")
        _el(fmly, "SubFmlyCd", "CHRG")
    else:
        _el(domain, "Cd", "PMNT")
        fmly = _el(domain, "Fmly")
        _el(fmly, "Cd", "ICDT")
        _el(fmly, "SubFmlyCd", "XBCT" if stmt.cross_border else "DMCT")
    if line.charges:
        rcrd = _el(_el(ntry, "Chrgs"), "Rcrd")
        _amt(rcrd, "Amt", line.charges, ccy)
        _el(rcrd, "CdtDbtInd", "DBIT")
        _el(rcrd, "ChrgInclInd", "true")
    details = _el(ntry, "NtryDtls")
    if line.batch_id and line.kind != FEE:
        btch = _el(details, "Btch")
        _el(btch, "MsgId", line.batch_id[:35])
        _el(btch, "NbOfTxs", str(len(line.items)))
        _amt(btch, "TtlAmt", sum((i.amount for i in line.items), Decimal(0)), ccy)
        _el(btch, "CdtDbtInd", "DBIT")
    if line.kind == FEE:
        # One TxDtls carrying the payment's references; the amount is the fee itself.
        _tx_details(details, line.items[0], line.amount, ccy)
        _el(ntry, "AddtlNtryInf", f"FEE FOR {line.entry_ref}"[:500])
    else:
        for item in line.items:
            _tx_details(details, item, item.amount, ccy)


def render_camt053(stmt: Statement) -> bytes:
    doc = etree.Element(f"{{{NS}}}Document", nsmap={None: NS})
    root = _el(doc, "BkToCstmrStmt")
    hdr = _el(root, "GrpHdr")
    _el(hdr, "MsgId", stmt.id)
    _el(hdr, "CreDtTm", stmt.created.isoformat(timespec="seconds"))
    st = _el(root, "Stmt")
    _el(st, "Id", stmt.id)
    _el(st, "ElctrncSeqNb", str(stmt.sequence))
    _el(st, "CreDtTm", stmt.created.isoformat(timespec="seconds"))
    acct = _el(st, "Acct")
    _el(_el(_el(acct, "Id"), "Othr"), "Id", stmt.account[:34])
    _el(acct, "Ccy", stmt.currency)
    _balance(st, "OPBD", stmt.opening, stmt)
    _balance(st, "CLBD", stmt.closing, stmt)
    summary = _el(st, "TxsSummry")
    totals = _el(summary, "TtlNtries")
    _el(totals, "NbOfNtries", str(len(stmt.lines)))
    _el(
        totals,
        "Sum",
        f"{sum((ln.amount for ln in stmt.lines), Decimal(0)):.{minor_units(stmt.currency)}f}",
    )
    net = _el(totals, "TtlNetNtry")
    _el(net, "Amt", f"{abs(stmt.closing - stmt.opening):.{minor_units(stmt.currency)}f}")
    _el(net, "CdtDbtInd", "CRDT" if stmt.closing >= stmt.opening else "DBIT")
    for line in stmt.lines:
        _entry(st, line, stmt)
    return bytes(etree.tostring(doc, xml_declaration=True, encoding="UTF-8"))
