"""Minimal ISO 20022 codec of the simulators: read pacs.008 / pacs.028, write pacs.002.

Deliberately independent of paygate.messages: the only thing shared is the official XSD, so a
bug in the gateway's codec shows up here as a rejection instead of being mirrored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path

from lxml import etree

from simulators.rail import Instruction

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "schemas" / "iso20022"
PACS008_NS = "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"
PACS002_NS = "urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10"
_N = {"p": PACS008_NS}

# Hardened: no entity expansion, no network, no DTD loading; shared (the loop is one thread).
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
)


class IsoFormatError(ValueError):
    """The message cannot be accepted at all (FF01): not XML, wrong message, XSD-invalid."""

    def __init__(self, detail: str, msg_id: str | None = None, tx_ids: list[str] | None = None):
        super().__init__(detail)
        self.detail = detail
        self.msg_id = msg_id
        self.tx_ids = tx_ids or []


@cache
def schema(name: str) -> etree.XMLSchema:
    """Compile an XSD once per process (compiling costs ~100x a validation)."""
    doc = etree.parse(str(SCHEMA_DIR / f"{name}.xsd"), _PARSER)
    return etree.XMLSchema(doc)


def parse_xml(body: bytes) -> etree._Element:
    try:
        return etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise IsoFormatError(f"not well-formed XML: {exc}") from exc


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _find_document(root: etree._Element) -> etree._Element:
    # A bare Document, or any envelope (AppHdr + Document) around it.
    if _local(root.tag) == "Document":
        return root
    for el in root.iter():
        if _local(el.tag) == "Document":
            return el
    raise IsoFormatError("no ISO 20022 Document element")


@dataclass
class Pacs008:
    msg_id: str
    transactions: list[Instruction] = field(default_factory=list)


def _text(el: etree._Element, path: str) -> str | None:
    found = el.find(path, _N)
    if found is None or found.text is None:
        return None
    return found.text.strip()


def _account(el: etree._Element, prefix: str) -> str:
    return _text(el, f"p:{prefix}/p:Id/p:IBAN") or _text(el, f"p:{prefix}/p:Id/p:Othr/p:Id") or ""


def parse_pacs008(body: bytes) -> Pacs008:
    root = parse_xml(body)
    doc = _find_document(root)
    ns = etree.QName(doc.tag).namespace
    msg_id = None
    tx_ids: list[str] = []
    if ns == PACS008_NS:
        msg_id = _text(doc, "p:FIToFICstmrCdtTrf/p:GrpHdr/p:MsgId")
        tx_ids = [t.text or "" for t in doc.iterfind(".//p:CdtTrfTxInf/p:PmtId/p:TxId", _N)]
    if ns != PACS008_NS:
        raise IsoFormatError(f"expected a pacs.008.001.08 Document, got namespace {ns!r}")
    # Validate a standalone copy so an envelope's namespaces cannot leak into the check.
    standalone = etree.fromstring(etree.tostring(doc), _PARSER) if doc is not root else doc
    xsd = schema("pacs.008.001.08")
    if not xsd.validate(standalone):
        err = xsd.error_log.last_error
        raise IsoFormatError(f"XSD: line {err.line}: {err.message}", msg_id, tx_ids)
    grp = standalone.find("p:FIToFICstmrCdtTrf", _N)
    assert grp is not None  # guaranteed by the XSD
    msg_id = _text(grp, "p:GrpHdr/p:MsgId") or ""
    txs = grp.findall("p:CdtTrfTxInf", _N)
    declared = _text(grp, "p:GrpHdr/p:NbOfTxs")
    if declared != str(len(txs)):
        raise IsoFormatError(f"NbOfTxs {declared} but {len(txs)} transactions", msg_id, tx_ids)
    out = Pacs008(msg_id=msg_id)
    for tx in txs:
        tx_id = _text(tx, "p:PmtId/p:TxId")
        if not tx_id:
            # TxId is optional in the XSD but it is this rail's de-duplication key.
            raise IsoFormatError("PmtId/TxId is required by this rail", msg_id, tx_ids)
        amt = tx.find("p:IntrBkSttlmAmt", _N)
        assert amt is not None
        try:
            amount = Decimal((amt.text or "").strip())
        except InvalidOperation as exc:
            raise IsoFormatError("bad IntrBkSttlmAmt", msg_id, tx_ids) from exc
        out.transactions.append(
            Instruction(
                reference=tx_id,
                end_to_end_id=_text(tx, "p:PmtId/p:EndToEndId") or "",
                uetr=_text(tx, "p:PmtId/p:UETR"),
                instr_id=_text(tx, "p:PmtId/p:InstrId"),
                amount=amount,
                currency=amt.get("Ccy", ""),
                debtor_account=_account(tx, "DbtrAcct"),
                creditor_account=_account(tx, "CdtrAcct"),
                creditor_name=_text(tx, "p:Cdtr/p:Nm") or "",
                debtor_lei=_text(tx, "p:Dbtr/p:Id/p:OrgId/p:LEI"),
                creditor_lei=_text(tx, "p:Cdtr/p:Id/p:OrgId/p:LEI"),
            )
        )
    return out


@dataclass(frozen=True)
class StatusQuery:
    tx_id: str | None
    uetr: str | None
    end_to_end_id: str | None


def parse_pacs028(body: bytes) -> list[StatusQuery]:
    """Read the OrgnlTxId / OrgnlUETR / OrgnlEndToEndId of each TxInf (any pacs.028 version)."""
    root = parse_xml(body)
    doc = _find_document(root)
    queries = []
    for tx in doc.iter():
        if _local(tx.tag) != "TxInf":
            continue
        values: dict[str, str] = {}
        for child in tx:
            name = _local(child.tag)
            if name in ("OrgnlTxId", "OrgnlUETR", "OrgnlEndToEndId") and child.text:
                values[name] = child.text.strip()
        queries.append(
            StatusQuery(
                values.get("OrgnlTxId"), values.get("OrgnlUETR"), values.get("OrgnlEndToEndId")
            )
        )
    if not queries:
        raise IsoFormatError("pacs.028 without TxInf")
    return queries


@dataclass(frozen=True)
class TxStatus:
    end_to_end_id: str
    tx_id: str
    uetr: str | None
    instr_id: str | None
    status: str  # RCVD | ACSP | ACSC | RJCT
    reason: str | None
    accepted_at: datetime
    fee: Decimal | None = None
    currency: str | None = None
    settlement_date: date | None = None
    bank_ref: str | None = None


def _sub(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, f"{{{PACS002_NS}}}{name}")
    if text is not None:
        el.text = text
    return el


def _reason(parent: etree._Element, code: str, detail: str | None = None) -> None:
    info = _sub(parent, "StsRsnInf")
    _sub(_sub(info, "Rsn"), "Cd", code)
    if detail:
        _sub(info, "AddtlInf", detail[:105])


def build_pacs002(
    *,
    msg_id: str,
    created: datetime,
    orig_msg_id: str,
    orig_msg_name: str = "pacs.008.001.08",
    statuses: list[TxStatus],
    group_status: str | None = None,
    group_reason: str | None = None,
    group_detail: str | None = None,
    agent_name: str = "SIM",
) -> bytes:
    doc = etree.Element(f"{{{PACS002_NS}}}Document", nsmap={None: PACS002_NS})
    rpt = _sub(doc, "FIToFIPmtStsRpt")
    hdr = _sub(rpt, "GrpHdr")
    _sub(hdr, "MsgId", msg_id)
    _sub(hdr, "CreDtTm", created.isoformat(timespec="seconds"))
    grp = _sub(rpt, "OrgnlGrpInfAndSts")
    _sub(grp, "OrgnlMsgId", orig_msg_id or "NOTPROVIDED")
    _sub(grp, "OrgnlMsgNmId", orig_msg_name)
    if group_status:
        _sub(grp, "GrpSts", group_status)
        if group_reason:
            _reason(grp, group_reason, group_detail)
    for i, st in enumerate(statuses, start=1):
        tx = _sub(rpt, "TxInfAndSts")
        _sub(tx, "StsId", f"{msg_id}-{i}"[:35])
        if st.instr_id:
            _sub(tx, "OrgnlInstrId", st.instr_id)
        _sub(tx, "OrgnlEndToEndId", st.end_to_end_id or "NOTPROVIDED")
        _sub(tx, "OrgnlTxId", st.tx_id)
        if st.uetr:
            _sub(tx, "OrgnlUETR", st.uetr)
        _sub(tx, "TxSts", st.status)
        if st.reason:
            _reason(tx, st.reason)
        if st.fee is not None and st.fee > 0 and st.currency:
            chrgs = _sub(tx, "ChrgsInf")
            _sub(chrgs, "Amt", str(st.fee)).set("Ccy", st.currency)
            _sub(_sub(_sub(chrgs, "Agt"), "FinInstnId"), "Nm", agent_name)
        _sub(tx, "AccptncDtTm", st.accepted_at.isoformat(timespec="seconds"))
        if st.settlement_date is not None:
            _sub(_sub(tx, "FctvIntrBkSttlmDt"), "Dt", st.settlement_date.isoformat())
        if st.bank_ref:
            _sub(tx, "AcctSvcrRef", st.bank_ref)
    return bytes(etree.tostring(doc, xml_declaration=True, encoding="UTF-8"))
