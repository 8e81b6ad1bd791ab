"""Card settlement files (CSV) to statement lines.

Networks each name their columns differently, so the mapping is configuration
(``CsvMapping``). A row's gross amount becomes a payment line matched against our
record; its fee, when the file states one, becomes a separate fee line — otherwise every
card payment would look like a fee-deducted break. Rows whose status says nothing moved
(declined, ...) are skipped and counted. Bad rows are reported with their line number,
never guessed at.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from pydantic import BaseModel, ConfigDict

from paygate.errors import FieldError, ValidationFailed
from paygate.recon.records import CreditDebit, StatementLine, content_hash


class CsvMapping(BaseModel):
    """Which column holds what. Defaults match the header
    ``reference,end_to_end_id,amount,currency,fee,net,value_date,status`` (extra columns,
    such as the simulated card rail's ``uetr`` and ``bank_ref``, are ignored).

    ``net_includes_fee`` says what the ``net`` column means. Card networks differ: the
    simulated card rail, like most acquirer settlement files seen from the payer's side,
    writes ``net = amount + fee`` (the total debited to the settlement account), which is
    the default; a network that pays out ``net = amount - fee`` sets it to False."""

    model_config = ConfigDict(frozen=True)

    reference: str = "reference"
    end_to_end_id: str | None = "end_to_end_id"
    amount: str = "amount"  # gross
    currency: str = "currency"
    fee: str | None = "fee"
    net: str | None = "net"
    value_date: str = "value_date"
    status: str | None = "status"
    counterparty: str | None = None
    date_format: str = "%Y-%m-%d"
    delimiter: str = ","
    decimal_separator: str = "."
    credit_debit: CreditDebit = "D"
    net_includes_fee: bool = True
    settled_statuses: frozenset[str] = frozenset({"settled", "SETTLED", "success", "00"})

    def required(self) -> list[str]:
        cols = [self.reference, self.amount, self.currency, self.value_date]
        optional = (self.end_to_end_id, self.fee, self.net, self.status, self.counterparty)
        return cols + [c for c in optional if c]


@dataclass(slots=True)
class CsvImport:
    lines: list[StatementLine] = field(default_factory=list)
    errors: list[FieldError] = field(default_factory=list)  # pointer: /rows/<n>/<column>
    skipped: int = 0  # rows whose status says nothing moved


def _decimal(raw: str, sep: str) -> Decimal:
    text = raw.strip()
    if sep != ".":
        text = text.replace(".", "").replace(sep, ".")
    value = Decimal(text)
    if not value.is_finite():
        raise InvalidOperation(raw)
    return value


def import_csv(
    text: str,
    *,
    statement_id: str,
    channel: str,
    mapping: CsvMapping | None = None,
) -> CsvImport:
    """Parse a settlement file. Raises ``ValidationFailed`` if mapped columns are absent
    from the header; row problems are collected in ``CsvImport.errors``."""
    m = mapping or CsvMapping()
    reader = csv.DictReader(io.StringIO(text), delimiter=m.delimiter)
    header = reader.fieldnames or []
    missing = [c for c in m.required() if c not in header]
    if missing:
        raise ValidationFailed(
            f"settlement file lacks mapped columns: {', '.join(missing)}",
            [FieldError(f"/header/{c}", "missing column") for c in missing],
        )
    out = CsvImport()
    seq = 0
    for rowno, row in enumerate(reader, start=2):  # line 1 is the header
        if m.status and row[m.status].strip() not in m.settled_statuses:
            out.skipped += 1
            continue
        column = m.amount
        try:
            gross = _decimal(row[m.amount], m.decimal_separator)
            fee = Decimal(0)
            if m.fee and row[m.fee].strip():
                column = m.fee
                fee = _decimal(row[m.fee], m.decimal_separator)
            if m.net and row[m.net].strip():
                column = m.net
                net = _decimal(row[m.net], m.decimal_separator)
                sign = "+" if m.net_includes_fee else "-"
                expected = gross + fee if m.net_includes_fee else gross - fee
                if net != expected:
                    out.errors.append(
                        FieldError(f"/rows/{rowno}/{m.net}", f"net {net} != {gross} {sign} {fee}")
                    )
                    continue
            column = m.value_date
            value_date: date = datetime.strptime(row[m.value_date].strip(), m.date_format).date()
        except (InvalidOperation, ValueError) as exc:
            out.errors.append(FieldError(f"/rows/{rowno}/{column}", f"unreadable: {exc}"))
            continue
        reference = row[m.reference].strip()
        if not reference:
            out.errors.append(FieldError(f"/rows/{rowno}/{m.reference}", "empty reference"))
            continue
        currency = row[m.currency].strip().upper()
        e2e = row[m.end_to_end_id].strip() or None if m.end_to_end_id else None
        counterparty = row[m.counterparty].strip() or None if m.counterparty else None
        seq += 1
        out.lines.append(
            StatementLine(
                line_id=f"{statement_id}#{seq}",
                statement_id=statement_id,
                channel=channel,
                amount=gross,
                currency=currency,
                value_date=value_date,
                credit_debit=m.credit_debit,
                tx_id=reference,
                end_to_end_id=e2e,
                counterparty=counterparty,
                content_hash=content_hash(channel, reference, e2e, gross, currency, value_date),
            )
        )
        if fee:
            seq += 1
            out.lines.append(
                StatementLine(
                    line_id=f"{statement_id}#{seq}",
                    statement_id=statement_id,
                    channel=channel,
                    amount=fee,
                    currency=currency,
                    value_date=value_date,
                    credit_debit="D",
                    entry_ref=reference,
                    details=f"fee for {reference}",
                    is_fee=True,
                    content_hash=content_hash(channel, "fee", reference, fee, currency, value_date),
                )
            )
    return out
