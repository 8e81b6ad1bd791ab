"""Parsed statements (camt.053, camt.054, MT940, MT950) to reconciliation ``StatementLine``s.

Pure: no I/O. Fee entries (BkTxCd ``CHRG`` / MT ``NCHG``) become ``is_fee`` lines; a batch
booking stays one line carrying its item count; references are mapped so the matcher finds
the payment by its channel reference (TxId / MT customer reference), EndToEndId or UETR.
"""

from __future__ import annotations

import re

from paygate.errors import UnsupportedMessage
from paygate.messages.camt import read_camt
from paygate.messages.mt.statement import parse_mt_statements
from paygate.messages.statements import Statement, StatementEntry
from paygate.messages.xsd import read_iso
from paygate.recon.records import NOT_PROVIDED, CreditDebit, StatementLine, content_hash

CAMT_KINDS = ("camt.053", "camt.054")
FEE_CODES = frozenset({"CHRG", "NCHG", "FEES", "COMM"})
_CODE = re.compile(r"/(EREF|TXID|UETR|BTCH|FEE)/([^\s/]+)(?:/([^\s/]+))?")


def _codes(details: str | None) -> dict[str, tuple[str, str | None]]:
    """``/CODE/value[/value2]`` pairs of an MT940 :86: (first occurrence wins)."""
    out: dict[str, tuple[str, str | None]] = {}
    for m in _CODE.finditer(details or ""):
        out.setdefault(m.group(1), (m.group(2), m.group(3)))
    return out


def _first(values: tuple[str, ...], *, skip: str | None = None) -> str | None:
    for v in values:
        if v and v != NOT_PROVIDED and v != skip:
            return v
    return None


def is_fee_entry(entry: StatementEntry) -> bool:
    if entry.transaction_code and entry.transaction_code.upper() in FEE_CODES:
        return True
    details = (entry.details or "").upper()
    return details.startswith("FEE FOR") or "/FEE/" in details


def line_from_entry(
    entry: StatementEntry, *, channel: str, statement_id: str, seq: int, currency: str
) -> StatementLine:
    codes = _codes(entry.details)
    fee = is_fee_entry(entry)
    batch_count = entry.batch_count
    if batch_count is None and "BTCH" in codes and codes["BTCH"][0].isdigit():
        batch_count = int(codes["BTCH"][0])
    # TxId: camt TxDtls/Refs/TxId when the entry is one transaction, MT940 /TXID/, else the
    # customer reference (NtryRef / :61: subfield 7: the TxId, or the batch MsgId).
    tx_id: str | None = None
    if len(entry.tx_ids) == 1 and not batch_count:
        tx_id = entry.tx_ids[0]
    elif "TXID" in codes:
        tx_id = codes["TXID"][0]
    if tx_id is None:
        tx_id = entry.entry_ref if entry.entry_ref and entry.entry_ref != "NONREF" else None
    e2e: str | None = None
    if not batch_count or batch_count == 1:
        if "EREF" in codes:
            e2e = codes["EREF"][0]
        elif entry.tx_ids or len(entry.end_to_end_ids) == 1:
            # camt: TxDtls EndToEndId (MT parsers also list the customer reference here).
            e2e = _first(entry.end_to_end_ids, skip=entry.entry_ref)
        elif entry.details and not codes:
            # MT950: the :61: continuation line is the EndToEndId.
            e2e = entry.details.split()[0]
    uetr = entry.uetrs[0] if len(entry.uetrs) == 1 else None
    if uetr is None and "UETR" in codes:
        uetr = codes["UETR"][0].lower()
    ccy = entry.currency or currency
    value_date = entry.value_date or entry.booking_date
    if value_date is None:
        raise ValueError(f"{statement_id} entry {seq} has no value or booking date")
    credit = entry.credit_debit == "CRDT"
    if entry.reversal:
        credit = not credit
    cd: CreditDebit = "C" if credit else "D"
    return StatementLine(
        line_id=f"{statement_id}#{seq}",
        statement_id=statement_id,
        channel=channel,
        amount=entry.amount,
        currency=ccy,
        value_date=value_date,
        credit_debit=cd,
        booking_date=entry.booking_date,
        entry_ref=entry.entry_ref,
        account_servicer_ref=entry.account_servicer_ref,
        end_to_end_id=None if fee else e2e,
        tx_id=None if fee else tx_id,
        uetr=None if fee else uetr,
        batch_count=None if fee else batch_count,
        details=entry.details,
        is_fee=fee,
        content_hash=content_hash(
            channel,
            entry.entry_ref,
            entry.account_servicer_ref,
            entry.amount,
            ccy,
            value_date,
            cd,
            fee,
        ),
    )


def lines_from_statement(
    stmt: Statement, *, channel: str, statement_id: str
) -> list[StatementLine]:
    currency = stmt.currency or (stmt.opening_balance.currency if stmt.opening_balance else "")
    return [
        line_from_entry(e, channel=channel, statement_id=statement_id, seq=i, currency=currency)
        for i, e in enumerate(stmt.entries, start=1)
    ]


def detect_and_parse(data: bytes) -> list[Statement]:
    """camt.053 statements or camt.054 debit/credit notifications (XML, by the Document
    namespace), or MT940 / MT950 (SWIFT FIN text), chosen by content. A camt.054
    notification carries no balances: its entries become lines like a statement's."""
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:512]
    if head.startswith(b"<"):
        iso = read_iso(data)
        if iso.kind not in CAMT_KINDS:
            raise UnsupportedMessage(f"expected camt.053 or camt.054, got {iso.message_id}")
        return read_camt(iso, iso.kind)
    text = data.decode("utf-8", errors="replace")
    if (":20:" in text and ":61:" in text) or ":60F:" in text or ":25:" in text:
        return parse_mt_statements(text)
    raise UnsupportedMessage("not a camt.053, camt.054, MT940 or MT950 statement")
