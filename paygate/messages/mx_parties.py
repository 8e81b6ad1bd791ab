"""Parties, agents, accounts, addresses and remittance <-> ISO 20022 elements.

Shared by pacs.008, pacs.004, pacs.009 and pain.001; element order follows the
XSD (PostalAddress24, PartyIdentification135, FinancialInstitutionIdentification18,
CashAccount38, RemittanceInformation16).
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from paygate.domain import Account, Agent, Party, PostalAddress, Remittance, StructuredReference
from paygate.messages.mx import Builder, Reader

_CODE4 = re.compile(r"^[A-Z0-9]{1,4}$")
_DOC_TYPE_CODES = {"RADM", "RPIN", "FXDR", "DISP", "PUOR", "SCOR"}

_ADDRESS_FIELDS = (
    ("Dept", "department"),
    ("StrtNm", "street_name"),
    ("BldgNb", "building_number"),
    ("PstCd", "post_code"),
    ("TwnNm", "town_name"),
    ("CtrySubDvsn", "country_sub_division"),
    ("Ctry", "country"),
)


def write_address(b: Builder, parent: etree._Element, address: PostalAddress) -> None:
    node = b.sub(parent, "PstlAdr")
    for tag, attr in _ADDRESS_FIELDS:
        value = getattr(address, attr)
        if value is not None:
            b.sub(node, tag, value)
    for line in address.address_lines:
        b.sub(node, "AdrLine", line)


def read_address(r: Reader | None) -> PostalAddress | None:
    if r is None:
        return None
    values: dict[str, Any] = {attr: r.text(tag) for tag, attr in _ADDRESS_FIELDS}
    values = {k: v for k, v in values.items() if v}
    lines = [line for line in r.texts("AdrLine") if line]
    return PostalAddress(**values, address_lines=lines)


def _write_scheme(b: Builder, parent: etree._Element, scheme: str | None) -> None:
    if scheme is None:
        return
    node = b.sub(parent, "SchmeNm")
    b.sub(node, "Cd" if _CODE4.match(scheme) else "Prtry", scheme)


def write_party(b: Builder, parent: etree._Element, tag: str, party: Party) -> None:
    node, name = b.tree(parent, (tag, tag + "/Nm"))
    name.text = party.name
    if party.address is not None:
        write_address(b, node, party.address)
    if party.bic or party.lei or party.other_id:
        org = b.path(node, "Id/OrgId")
        b.opt(org, "AnyBIC", party.bic)
        b.opt(org, "LEI", party.lei)
        if party.other_id:
            other = b.sub(org, "Othr")
            b.sub(other, "Id", party.other_id)
            _write_scheme(b, other, party.other_id_scheme)
    b.opt(node, "CtryOfRes", party.country_of_residence)


def read_party(r: Reader) -> Party:
    other = r.child("Id/OrgId/Othr") or r.child("Id/PrvtId/Othr")
    return Party(
        name=r.text("Nm") or "NOTPROVIDED",
        address=read_address(r.child("PstlAdr")),
        bic=r.text("Id/OrgId/AnyBIC") or r.text("Id/OrgId/BICOrBEI"),
        lei=r.text("Id/OrgId/LEI"),
        other_id=other.text("Id") if other else None,
        other_id_scheme=(other.text("SchmeNm/Cd") or other.text("SchmeNm/Prtry"))
        if other
        else None,
        country_of_residence=r.text("CtryOfRes"),
    )


def write_agent(b: Builder, parent: etree._Element, tag: str, agent: Agent) -> None:
    if agent.bic and not (agent.member_id or agent.lei or agent.name or agent.address):
        b.path(parent, tag + "/FinInstnId/BICFI", agent.bic)  # the usual case: a BIC only
        return
    fin = b.path(parent, tag + "/FinInstnId")
    b.opt(fin, "BICFI", agent.bic)
    if agent.member_id:
        clr = b.sub(fin, "ClrSysMmbId")
        if agent.clearing_system:
            b.path(clr, "ClrSysId/Cd", agent.clearing_system)
        b.sub(clr, "MmbId", agent.member_id)
    b.opt(fin, "LEI", agent.lei)
    b.opt(fin, "Nm", agent.name)
    if agent.address is not None:
        write_address(b, fin, agent.address)


def read_agent(r: Reader | None) -> Agent | None:
    if r is None:
        return None
    fin = r.child("FinInstnId")
    if fin is None:
        return None
    bic = fin.text("BICFI") or fin.text("BIC")
    member_id = fin.text("ClrSysMmbId/MmbId")
    name = fin.text("Nm")
    if not (bic or member_id or name):
        return None  # an empty FinInstnId identifies nobody
    return Agent(
        bic=bic,
        clearing_system=fin.text("ClrSysMmbId/ClrSysId/Cd"),
        member_id=member_id,
        name=name,
        address=read_address(fin.child("PstlAdr")),
        lei=fin.text("LEI"),
    )


def write_account(b: Builder, parent: etree._Element, tag: str, account: Account) -> None:
    if account.iban and account.currency is None:
        b.path(parent, tag + "/Id/IBAN", account.iban)  # the usual case: an IBAN only
        return
    node = b.sub(parent, tag)
    ident = b.sub(node, "Id")
    if account.iban:
        b.sub(ident, "IBAN", account.iban)
    else:
        other = b.sub(ident, "Othr")
        b.sub(other, "Id", account.other)
        _write_scheme(b, other, account.scheme)
    b.opt(node, "Ccy", account.currency)


def read_account(r: Reader | None) -> Account | None:
    if r is None:
        return None
    iban = r.text("Id/IBAN")
    if iban:
        return Account(iban=iban, currency=r.text("Ccy"))
    return Account(
        other=r.text("Id/Othr/Id") or "NOTPROVIDED",
        scheme=r.text("Id/Othr/SchmeNm/Cd") or r.text("Id/Othr/SchmeNm/Prtry"),
        currency=r.text("Ccy"),
    )


def write_remittance(b: Builder, parent: etree._Element, remittance: Remittance) -> None:
    node = b.sub(parent, "RmtInf")
    b.opt(node, "Ustrd", remittance.unstructured)
    for ref in remittance.structured:
        cref = b.path(node, "Strd/CdtrRefInf")
        if ref.type is not None:
            tp = b.sub(cref, "Tp")
            b.sub(
                b.sub(tp, "CdOrPrtry"), "Cd" if ref.type in _DOC_TYPE_CODES else "Prtry", ref.type
            )
            b.opt(tp, "Issr", ref.issuer)
        b.sub(cref, "Ref", ref.reference)


def read_remittance(r: Reader | None) -> Remittance | None:
    if r is None:
        return None
    unstructured = " ".join(t for t in r.texts("Ustrd") if t)[:140] or None
    structured = []
    for strd in r.children("Strd/CdtrRefInf"):
        ref = strd.text("Ref")
        if not ref:
            continue
        structured.append(
            StructuredReference(
                reference=ref,
                type=strd.text("Tp/CdOrPrtry/Cd") or strd.text("Tp/CdOrPrtry/Prtry"),
                issuer=strd.text("Tp/Issr"),
            )
        )
    if unstructured is None and not structured:
        return None
    return Remittance(unstructured=unstructured, structured=structured[:10])
