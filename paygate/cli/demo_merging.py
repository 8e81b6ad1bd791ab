"""The demo's merging summary: merges, items merged, fee charged against one by one, saved."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import asyncpg
from rich.console import Console
from rich.table import Table

from paygate.engine.routing_service import RoutingService


async def print_merge_savings(
    console: Console, pool: asyncpg.Pool, routing: RoutingService
) -> dict[str, Any]:
    """Print one line per rule and the total; return the figures (for tests and reports).

    ``fee_if_single`` is what each item would have cost on the merged payment's rail, from
    that rail's tariff; a merge settled without it recorded is priced here the same way."""
    merges = await pool.fetch(
        """SELECT m.id, m.rule_id, m.item_count, m.currency, m.channel, m.fee_charged,
                  m.fee_if_single
           FROM merges m WHERE m.status = 'settled' ORDER BY m.rule_id"""
    )
    per_rule: dict[str, dict[str, Any]] = {}
    for m in merges:
        if_single = m["fee_if_single"]
        if if_single is None and m["channel"] is not None:
            amounts = await pool.fetch(
                "SELECT amount FROM merge_items WHERE merge_id = $1 AND NOT released", m["id"]
            )
            if_single = sum(
                (routing.fee_of(m["channel"], a["amount"], m["currency"]) or Decimal(0))
                for a in amounts
            )
        r = per_rule.setdefault(
            m["rule_id"],
            {"merges": 0, "items": 0, "fee_charged": Decimal(0), "fee_if_single": Decimal(0)},
        )
        r["merges"] += 1
        r["items"] += m["item_count"]
        r["fee_charged"] += m["fee_charged"] or Decimal(0)
        r["fee_if_single"] += if_single or Decimal(0)

    table = Table(title="merging (并笔)")
    for col in ("rule", "merges", "items", "fee charged", "fee one by one", "saved"):
        table.add_column(col, justify="left" if col == "rule" else "right")
    total: dict[str, Any] = {
        "merges": 0,
        "items": 0,
        "fee_charged": Decimal(0),
        "fee_if_single": Decimal(0),
    }
    for rule_id, r in sorted(per_rule.items()):
        table.add_row(
            rule_id,
            str(r["merges"]),
            str(r["items"]),
            f"{r['fee_charged']:.2f}",
            f"{r['fee_if_single']:.2f}",
            _pct(r["fee_charged"], r["fee_if_single"]),
        )
        for k in total:
            total[k] += r[k]
    saved = total["fee_if_single"] - total["fee_charged"]
    pct = _pct(total["fee_charged"], total["fee_if_single"])
    if per_rule:
        console.print(table)
    console.print(
        f"merging: {total['merges']} merges of {total['items']} items; fee charged "
        f"{total['fee_charged']:.2f} vs {total['fee_if_single']:.2f} one by one; "
        f"saved {saved:.2f} ({pct})"
    )
    return {
        **total,
        "saved": saved,
        "saved_pct": pct,
        "per_rule": per_rule,
    }


def _pct(charged: Decimal, if_single: Decimal) -> str:
    if not if_single:
        return "n/a"
    return f"{(if_single - charged) * 100 / if_single:.1f}%"
