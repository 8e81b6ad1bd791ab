"""Test-side builders for the simulators' inbound messages (independent of paygate code)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from lxml import etree

PACS008 = "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"
PACS028 = "urn:iso:std:iso:20022:tech:xsd:pacs.028.001.03"
PACS002 = "urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10"


def _mod97(text: str) -> int:
    return int("".join(str(int(c, 36)) for c in text)) % 97


def lei(seed: str) -> str:
    """A syntactically valid LEI (ISO 17442 check digits) derived from `seed`."""
    base = (seed.upper() + "0" * 18)[:18]
    check = 98 - _mod97(base + "00")
    return f"{base}{check:02d}"


def iban_de(account: str) -> str:
    bban = ("37040044" + account.rjust(10, "0"))[:18]
    check = 98 - _mod97(bban + "DE00")
    return f"DE{check:02d}{bban}"


@dataclass
class Tx:
    tx_id: str
    amount: str = "100.00"
    ccy: str = "EUR"
    e2e: str | None = None
    uetr: str = field(default_factory=lambda: str(uuid.uuid4()))
    debtor_acct: str = "DEBTOR0001"
    creditor_acct: str = "CREDITOR0001"
    creditor_name: str = "ACME GMBH"
    debtor_lei: str | None = None
    creditor_lei: str | None = None


def _sub(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, f"{{{PACS008}}}{name}")
    if text is not None:
        el.text = text
    return el


def _party(parent: etree._Element, tag: str, name: str, lei_code: str | None) -> None:
    party = _sub(parent, tag)
    _sub(party, "Nm", name)
    if lei_code:
        _sub(_sub(_sub(party, "Id"), "OrgId"), "LEI", lei_code)


def _agent(parent: etree._Element, tag: str, bic: str) -> None:
    _sub(_sub(_sub(parent, tag), "FinInstnId"), "BICFI", bic)


def _acct(parent: etree._Element, tag: str, account: str) -> None:
    _sub(_sub(_sub(_sub(parent, tag), "Id"), "Othr"), "Id", account)


def pacs008(txs: list[Tx], msg_id: str = "MSG1", nb_of_txs: int | None = None) -> bytes:
    doc = etree.Element(f"{{{PACS008}}}Document", nsmap={None: PACS008})
    root = _sub(doc, "FIToFICstmrCdtTrf")
    hdr = _sub(root, "GrpHdr")
    _sub(hdr, "MsgId", msg_id)
    _sub(hdr, "CreDtTm", "2024-01-17T08:30:00")
    _sub(hdr, "NbOfTxs", str(len(txs) if nb_of_txs is None else nb_of_txs))
    _sub(_sub(hdr, "SttlmInf"), "SttlmMtd", "CLRG")
    for t in txs:
        tx = _sub(root, "CdtTrfTxInf")
        pmt = _sub(tx, "PmtId")
        _sub(pmt, "InstrId", t.tx_id)
        _sub(pmt, "EndToEndId", t.e2e or f"E2E-{t.tx_id}")
        _sub(pmt, "TxId", t.tx_id)
        _sub(pmt, "UETR", t.uetr)
        _sub(tx, "IntrBkSttlmAmt", t.amount).set("Ccy", t.ccy)
        _sub(tx, "ChrgBr", "SLEV")
        _party(tx, "Dbtr", "PAYGATE TEST DEBTOR", t.debtor_lei)
        _acct(tx, "DbtrAcct", t.debtor_acct)
        _agent(tx, "DbtrAgt", "PAYGDEFFXXX")
        _agent(tx, "CdtrAgt", "BENEDEFFXXX")
        _party(tx, "Cdtr", t.creditor_name, t.creditor_lei)
        _acct(tx, "CdtrAcct", t.creditor_acct)
    return bytes(etree.tostring(doc, xml_declaration=True, encoding="UTF-8"))


def pacs028(tx_id: str | None = None, uetr: str | None = None) -> bytes:
    doc = etree.Element(f"{{{PACS028}}}Document", nsmap={None: PACS028})
    root = etree.SubElement(doc, f"{{{PACS028}}}FIToFIPmtStsReq")
    hdr = etree.SubElement(root, f"{{{PACS028}}}GrpHdr")
    etree.SubElement(hdr, f"{{{PACS028}}}MsgId").text = "STSREQ1"
    etree.SubElement(hdr, f"{{{PACS028}}}CreDtTm").text = "2024-01-17T08:30:00"
    tx = etree.SubElement(root, f"{{{PACS028}}}TxInf")
    if tx_id:
        etree.SubElement(tx, f"{{{PACS028}}}OrgnlTxId").text = tx_id
    if uetr:
        etree.SubElement(tx, f"{{{PACS028}}}OrgnlUETR").text = uetr
    return bytes(etree.tostring(doc, xml_declaration=True, encoding="UTF-8"))


@dataclass(frozen=True)
class Status:
    tx_id: str | None
    e2e: str | None
    uetr: str | None
    status: str
    reason: str | None
    fee: Decimal | None


def read_pacs002(body: bytes) -> tuple[str | None, str | None, list[Status]]:
    """(group status, group reason, per-transaction statuses)."""
    doc = etree.fromstring(body)
    ns = {"s": PACS002}
    grp_sts = doc.findtext(".//s:OrgnlGrpInfAndSts/s:GrpSts", namespaces=ns)
    grp_rsn = doc.findtext(".//s:OrgnlGrpInfAndSts/s:StsRsnInf/s:Rsn/s:Cd", namespaces=ns)
    out = []
    for tx in doc.iterfind(".//s:TxInfAndSts", ns):
        fee = tx.findtext("s:ChrgsInf/s:Amt", namespaces=ns)
        out.append(
            Status(
                tx_id=tx.findtext("s:OrgnlTxId", namespaces=ns),
                e2e=tx.findtext("s:OrgnlEndToEndId", namespaces=ns),
                uetr=tx.findtext("s:OrgnlUETR", namespaces=ns),
                status=tx.findtext("s:TxSts", namespaces=ns) or "",
                reason=tx.findtext("s:StsRsnInf/s:Rsn/s:Cd", namespaces=ns),
                fee=Decimal(fee) if fee else None,
            )
        )
    return grp_sts, grp_rsn, out


def mt103(
    ref: str = "REF1",
    uetr: str | None = None,
    amount: str = "1000,00",
    ccy: str = "USD",
    date: str = "240117",
    creditor_account: str = "GB0000000012345678",
    charges: str = "SHA",
    omit: tuple[str, ...] = (),
    extra_block4: str = "",
    with_uetr: bool = True,
) -> str:
    uetr = uetr or str(uuid.uuid4())
    fields = {
        "20": ref,
        "23B": "CRED",
        "32A": f"{date}{ccy}{amount}",
        "50K": "/DEBTOR0001\r\nPAYGATE TEST DEBTOR\r\nMAIN STREET 1",
        "59": f"/{creditor_account}\r\nJANE ROE LTD\r\nLONDON",
        "70": f"/ROC/E2E-{ref}",
        "71A": charges,
    }
    body = "".join(f":{tag}:{value}\r\n" for tag, value in fields.items() if tag not in omit)
    b3 = f"{{3:{{108:MUR1}}{{121:{uetr}}}}}" if with_uetr else ""
    return (
        "{1:F01PAYGDEFFAXXX0000000000}{2:I103BENEGB2LXXXXN}"
        f"{b3}{{4:\r\n{body}{extra_block4}-}}{{5:{{CHK:123456789ABC}}}}"
    )


def payment(ref: str, amount: str = "100.00", ccy: str = "CNY", **extra: str) -> dict[str, str]:
    body = {
        "reference": ref,
        "amount": amount,
        "currency": ccy,
        "debtor_account": "DEBTOR0001",
        "creditor_account": "CREDITOR0001",
        "creditor_name": "ZHANG SAN TRADING",
        "end_to_end_id": f"E2E-{ref}",
        "uetr": str(uuid.uuid4()),
    }
    body.update(extra)
    return body
