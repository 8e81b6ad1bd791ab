"""CSV settlement file (card): one row per settled payment; fee and net per row.

net = amount + fee: the total debited to the gateway's settlement account for that payment.
Batch bookings are flattened to one row per item; planted charges are added to the fee column.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from simulators.statements.model import FEE, PAYMENT, Statement

HEADER = (
    "reference", "end_to_end_id", "uetr", "amount", "currency", "fee", "net", "value_date",
    "status", "bank_ref",
)  # fmt: skip


def render_csv(stmt: Statement) -> str:
    fees = {ln.fee_of: ln.amount for ln in stmt.lines if ln.kind == FEE}
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(HEADER)
    for line in stmt.lines:
        if line.kind != PAYMENT:
            continue
        line_fee = fees.get(line.bank_ref, Decimal(0)) + (line.charges or Decimal(0))
        for n, item in enumerate(line.items):
            fee = line_fee if n == 0 else Decimal(0)  # a batch's fee sits on its first row
            writer.writerow(
                (
                    item.reference,
                    item.end_to_end_id,
                    item.uetr or "",
                    str(item.amount),
                    stmt.currency,
                    str(fee),
                    str(item.amount + fee),
                    line.value_date.isoformat(),
                    "settled",
                    line.bank_ref,
                )
            )
    return buf.getvalue()
