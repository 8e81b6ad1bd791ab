"""MT940 / MT950 rendering: pages of at most `page_size` :61: lines, numbered in :28C:.

Page 1 opens with :60F:, later pages with :60M:; every page but the last closes with :62M:,
the last with :62F:. Pages are separate messages joined by a line holding only '-'.
:61: = value date, entry date, D, amount (decimal comma), N + type (NTRF payment, NCHG fee),
customer reference (the sender's TxId, 16x) // rail reference, then the EndToEndId (34x).
MT940 adds :86: with /EREF/ /TXID/ /UETR/ (and /BTCH/, /FEE/, /CHGS/); MT950 has no :86:.
"""

from __future__ import annotations

from decimal import Decimal

from simulators.mt_codec import to_x
from simulators.statements.model import FEE, Line, Statement
from simulators.tariff import minor_units


def _amount(value: Decimal, ccy: str) -> str:
    whole, _, frac = f"{abs(value):.{minor_units(ccy)}f}".partition(".")
    return f"{whole},{frac}"


def _balance(tag: str, value: Decimal, stmt: Statement) -> str:
    mark = "C" if value >= 0 else "D"
    return f":{tag}:{mark}{stmt.day:%y%m%d}{stmt.currency}{_amount(value, stmt.currency)}"


def _details(line: Line) -> list[str]:
    """:86: lines, one /CODE/value per line so no reference is split across lines."""
    first = line.items[0]
    parts = []
    if line.kind == FEE:
        parts.append(f"/FEE/{first.reference}")
    if line.batch_id:
        parts.append(f"/BTCH/{len(line.items)}/{line.batch_id}")
    else:
        parts.append(f"/EREF/{first.end_to_end_id}")
        parts.append(f"/TXID/{first.reference}")
        if first.uetr:
            parts.append(f"/UETR/{first.uetr}")
    if line.charges:
        parts.append(f"/CHGS/{line.charges}")
    return [to_x(p)[:65] for p in parts][:6]


def _line(line: Line, ccy: str, with_details: bool) -> list[str]:
    kind = "NCHG" if line.kind == FEE else "NTRF"
    cust = to_x(line.entry_ref)[:16].replace("//", "/.")
    out = [
        f":61:{line.value_date:%y%m%d}{line.booking_date:%m%d}D{_amount(line.amount, ccy)}"
        f"{kind}{cust}//{line.bank_ref[:16]}",
    ]
    e2e = line.items[0].end_to_end_id if line.items and not line.batch_id else ""
    if e2e:
        out.append(to_x(e2e)[:34])
    if with_details:
        details = _details(line)
        out.append(":86:" + details[0])
        out.extend(details[1:])
    return out


def render_mt94x(stmt: Statement, kind: str = "940", page_size: int = 100) -> str:
    if kind not in ("940", "950"):
        raise ValueError("kind must be 940 or 950")
    pages = [stmt.lines[i : i + page_size] for i in range(0, len(stmt.lines), page_size)] or [[]]
    balance = stmt.opening
    messages = []
    for n, page in enumerate(pages, start=1):
        last = n == len(pages)
        out = [
            f":20:{stmt.id[:16]}",
            f":25:{to_x(stmt.account)[:35]}",
            f":28C:{stmt.sequence % 100000:05d}/{n:05d}",
            _balance("60F" if n == 1 else "60M", balance, stmt),
        ]
        for line in page:
            out.extend(_line(line, stmt.currency, with_details=kind == "940"))
            balance += line.signed
        out.append(_balance("62F" if last else "62M", balance, stmt))
        messages.append("\r\n".join(out))
    return "\r\n-\r\n".join(messages) + "\r\n-\r\n"
