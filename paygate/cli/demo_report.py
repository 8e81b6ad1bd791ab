"""What the demo prints and writes: status by channel, fees against a naive baseline,
latency percentiles, and a few routing decisions explained."""

from __future__ import annotations

import datetime as dt
import html
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from paygate.domain import PaymentOrder
from paygate.engine.routing_service import RoutingService, route_request

# The naive alternative: every domestic payment on the RTGS, every cross-border one on SWIFT.
BASELINE_RAIL = "rtgs"
BASELINE_CROSS_BORDER = "swift"


async def collect(
    pool: Any,
    ids: list[str],
    routing: RoutingService,
    orders: list[tuple[str, str, dict[str, Any]]],
) -> dict[str, Any]:
    rows = await pool.fetch(
        # A merged item went out inside its merge's payment: show that rail, marked merged
        # (its fee is the merge's, shown in the merging table).
        """SELECT COALESCE(p.channel, (
                      SELECT m.channel || ' (merged)' FROM merge_items mi
                      JOIN merges m ON m.id = mi.merge_id
                      WHERE mi.payment_id = p.id AND m.status = 'settled' LIMIT 1)) AS channel,
                  p.status, p.currency, count(*) AS n, sum(p.amount) AS amount,
                  sum(p.fee) FILTER (WHERE p.status = 'settled') AS fees
           FROM payments p WHERE p.id = ANY($1::uuid[]) GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""",
        ids,
    )
    latency = await pool.fetchrow(
        """SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY s) AS p50,
                  percentile_cont(0.99) WITHIN GROUP (ORDER BY s) AS p99
           FROM (SELECT extract(epoch FROM max(e.at) - min(e.at)) AS s
                 FROM payment_events e JOIN payments p ON p.id = e.payment_id
                 WHERE p.id = ANY($1::uuid[]) AND p.status = 'settled'
                 GROUP BY e.payment_id) t""",
        ids,
    )
    unknown_seen = await pool.fetchval(
        """SELECT count(DISTINCT payment_id) FROM payment_events
           WHERE payment_id = ANY($1::uuid[]) AND to_status = 'unknown'""",
        ids,
    )
    failovers = await pool.fetchval(
        """SELECT count(*) FROM payment_events WHERE payment_id = ANY($1::uuid[])
           AND reason LIKE '%failing over%'""",
        ids,
    )
    together = await pool.fetchrow(
        """SELECT count(*) AS payments, count(DISTINCT data->>'message_id') AS messages
           FROM payment_events WHERE payment_id = ANY($1::uuid[]) AND to_status = 'submitted'
           AND data ? 'message_id'""",
        ids,
    )
    by_channel: list[dict[str, Any]] = []
    fees: dict[str, Decimal] = defaultdict(Decimal)
    for r in rows:
        by_channel.append(
            {
                "channel": r["channel"] or "-",
                "status": r["status"],
                "currency": r["currency"],
                "count": r["n"],
                "amount": str(r["amount"]),
                "fees": str(r["fees"] or Decimal(0)),
            }
        )
        fees[r["currency"]] += r["fees"] or Decimal(0)
    merged_fees = await pool.fetch(
        """SELECT m.currency, sum(m.fee_charged) AS fee FROM merges m
           WHERE m.status = 'settled' AND EXISTS (
               SELECT 1 FROM merge_items mi
               WHERE mi.merge_id = m.id AND mi.payment_id = ANY($1::uuid[]))
           GROUP BY 1""",
        ids,
    )
    for r in merged_fees:  # what the merges cost is part of what was paid
        fees[r["currency"]] += r["fee"] or Decimal(0)
    baseline: dict[str, Decimal] = defaultdict(Decimal)
    for _key, _segment, body in orders:
        order = PaymentOrder.model_validate(body)
        debtor, creditor = order.resolved_debtor_country, order.resolved_creditor_country
        rail = (
            BASELINE_CROSS_BORDER if debtor and creditor and debtor != creditor else BASELINE_RAIL
        )
        fee = routing.fee_of(rail, order.amount.value, order.amount.currency)
        baseline[order.amount.currency] += fee or Decimal(0)
    return {
        "generated_at": dt.datetime.now(dt.UTC).isoformat(),
        "payments": len(ids),
        "by_channel": by_channel,
        "fees": {c: str(v) for c, v in sorted(fees.items())},
        "baseline_rail": f"{BASELINE_RAIL} (domestic) / {BASELINE_CROSS_BORDER} (cross-border)",
        "baseline_fees": {c: str(v) for c, v in sorted(baseline.items())},
        "latency_s": {"p50": float(latency["p50"] or 0), "p99": float(latency["p99"] or 0)},
        "went_unknown": unknown_seen,
        "failovers": failovers,
        "sent_together": {"payments": together["payments"], "messages": together["messages"]},
    }


def print_summary(console: Console, s: dict[str, Any]) -> None:
    table = Table(title=f"{s['payments']} payments by channel and status")
    for col in ("channel", "status", "currency", "count", "amount", "fees"):
        table.add_column(col, justify="right" if col in ("count", "amount", "fees") else "left")
    for row in s["by_channel"]:
        table.add_row(
            row["channel"],
            row["status"],
            row["currency"],
            str(row["count"]),
            row["amount"],
            row["fees"],
        )
    console.print(table)
    fees = Table(title=f"fees: routed vs. everything on {s['baseline_rail']}")
    for col in ("currency", "paid", "baseline", "saved"):
        fees.add_column(col, justify="right")
    for cur, base in s["baseline_fees"].items():
        paid = Decimal(s["fees"].get(cur, "0"))
        saved = Decimal(base) - paid
        pct = f" ({saved / Decimal(base) * 100:.0f}%)" if Decimal(base) else ""
        fees.add_row(cur, str(paid), base, f"{saved}{pct}")
    console.print(fees)
    lat = s["latency_s"]
    console.print(
        f"intake→settled latency (simulated rails, real seconds): p50 {lat['p50']:.2f}s  "
        f"p99 {lat['p99']:.2f}s · went unknown then resolved by inquiry: {s['went_unknown']} · "
        f"failovers: {s['failovers']} · elapsed {s.get('elapsed_s', 0)}s"
    )
    together = s.get("sent_together") or {}
    if together.get("payments"):
        console.print(
            f"sent together: {together['payments']} payments in {together['messages']} "
            "multi-payment pacs.008 messages (rtgs books each on its own; "
            "max_transactions_per_message)"
        )


def explain_samples(
    console: Console,
    routing: RoutingService,
    orders: list[tuple[str, str, dict[str, Any]]],
    now: dt.datetime,
) -> None:
    from routing import Snapshot

    seen: set[str] = set()
    for _key, segment, body in orders:
        if segment in seen or len(seen) >= 4:
            continue
        seen.add(segment)
        order = PaymentOrder.model_validate(body)
        req = route_request(order, f"sample-{segment}", now=now)
        decision = routing.decide(req, Snapshot(), now, explain=True)
        table = Table(
            title=f"why: {segment} {order.amount} → {decision.channel} "
            f"(rule {decision.rule or 'score'})"
        )
        for col in ("channel", "verdict", "fee", "latency", "risk", "score"):
            table.add_column(col)
        for v in decision.verdicts:
            table.add_row(
                v.channel,
                "eligible" if v.eligible else f"out: {v.dropped_because}",
                _s(v.fee),
                _s(v.latency_penalty),
                _s(v.risk_penalty),
                _s(v.score),
            )
        console.print(table)


def _s(value: Decimal | None) -> str:
    return "" if value is None else str(value)


def write_reports(directory: Path, summary: dict[str, Any]) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    json_path = directory / f"demo-{stamp}.json"
    json_path.write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
    rows = "".join(
        f"<tr><td>{html.escape(r['channel'])}</td><td>{r['status']}</td><td>{r['currency']}</td>"
        f"<td>{r['count']}</td><td>{r['amount']}</td><td>{r['fees']}</td></tr>"
        for r in summary["by_channel"]
    )
    fee_rows = "".join(
        f"<tr><td>{c}</td><td>{summary['fees'].get(c, '0')}</td><td>{b}</td></tr>"
        for c, b in summary["baseline_fees"].items()
    )
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>paygate demo</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}</style></head><body>
<h1>paygate demo — {summary["payments"]} payments</h1>
<p>latency p50 {summary["latency_s"]["p50"]:.2f}s, p99 {summary["latency_s"]["p99"]:.2f}s;
unknown then resolved: {summary["went_unknown"]}; failovers: {summary["failovers"]}</p>
<h2>By channel</h2><table><tr><th>channel</th><th>status</th><th>currency</th><th>count</th>
<th>amount</th><th>fees</th></tr>{rows}</table>
<h2>Fees vs. everything on {summary["baseline_rail"]}</h2>
<table><tr><th>currency</th><th>paid</th><th>baseline</th></tr>{fee_rows}</table>
</body></html>"""
    html_path = directory / f"demo-{stamp}.html"
    html_path.write_text(page, encoding="utf-8")
    return {"json": json_path, "html": html_path}
