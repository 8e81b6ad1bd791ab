"""Reconciliation reports: a summary value, and JSON, CSV and self-contained HTML files.

The HTML has inline CSS and an inline SVG chart and loads nothing: operators open it
from a mail attachment or an air-gapped share.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from html import escape
from pathlib import Path

from paygate.recon.aggregates import RailAggregate
from paygate.recon.breaks import Break, BreakKind, Grade
from paygate.recon.matching import MatchResult
from paygate.recon.records import GatewayRecord, StatementLine

HTML_ROWS_PER_GRADE = 500  # the CSV has all of them; a browser needs only a start


@dataclass(slots=True)
class RailSummary:
    channel: str
    records: int = 0
    lines: int = 0
    matched_records: int = 0
    matched_lines: int = 0
    pending: int = 0
    absent_as_expected: int = 0
    fee_lines: int = 0
    breaks: int = 0

    @property
    def match_rate(self) -> Decimal:
        """Matched share of everything that should have matched by now (records not yet
        due, rightly absent, and fee lines are out of the denominator)."""
        eligible = (
            self.records - self.pending - self.absent_as_expected + self.lines - self.fee_lines
        )
        if eligible <= 0:
            return Decimal(1)
        rate = Decimal(self.matched_records + self.matched_lines) / Decimal(eligible)
        return rate.quantize(Decimal("0.0001"))

    def to_dict(self) -> dict[str, object]:
        return {
            "channel": self.channel,
            "records": self.records,
            "lines": self.lines,
            "matched_records": self.matched_records,
            "matched_lines": self.matched_lines,
            "pending": self.pending,
            "absent_as_expected": self.absent_as_expected,
            "fee_lines": self.fee_lines,
            "breaks": self.breaks,
            "match_rate": str(self.match_rate),
        }


@dataclass(slots=True)
class ReconSummary:
    run_id: str
    as_of: date
    generated_at: datetime
    rails: list[RailSummary]
    breaks: list[Break]
    counters: dict[str, int]
    aggregates: list[RailAggregate] = field(default_factory=list)

    def by_kind(self) -> dict[str, int]:
        counts = Counter(b.kind.value for b in self.breaks)
        return {k.value: counts[k.value] for k in BreakKind if counts[k.value]}

    def by_grade(self) -> dict[str, int]:
        counts = Counter(b.grade.value for b in self.breaks)
        return {g.value: counts[g.value] for g in Grade}

    def to_dict(self) -> dict[str, object]:
        return {
            "run_id": self.run_id,
            "as_of": self.as_of.isoformat(),
            "generated_at": self.generated_at.isoformat(),
            "counters": dict(self.counters),
            "breaks_by_kind": self.by_kind(),
            "breaks_by_grade": self.by_grade(),
            "rails": [r.to_dict() for r in self.rails],
            "breaks": [_break_dict(b) for b in self.breaks],
            "aggregates": [a.to_dict() for a in self.aggregates],
        }


def _break_dict(b: Break) -> dict[str, object]:
    return {
        "fingerprint": b.fingerprint,
        "kind": b.kind.value,
        "grade": b.grade.value,
        "action": b.action.value,
        "alternatives": [a.value for a in b.alternatives],
        "channel": b.channel,
        "record_ids": list(b.record_ids),
        "line_ids": list(b.line_ids),
        "related": list(b.related),
        "currency": b.currency,
        "expected": None if b.expected is None else str(b.expected),
        "actual": None if b.actual is None else str(b.actual),
        "detail": b.detail,
    }


def summarize(
    result: MatchResult,
    records: Sequence[GatewayRecord],
    lines: Sequence[StatementLine],
    *,
    run_id: str,
    as_of: date,
    generated_at: datetime,
    aggregates: Sequence[RailAggregate] = (),
) -> ReconSummary:
    rails: dict[str, RailSummary] = {}

    def rail(channel: str) -> RailSummary:
        found = rails.get(channel)
        if found is None:
            found = rails[channel] = RailSummary(channel)
        return found

    pending = set(result.pending)
    absent = set(result.absent_as_expected)
    fees = set(result.fee_lines)
    for rec in records:
        r = rail(rec.channel)
        r.records += 1
        r.pending += rec.record_id in pending
        r.absent_as_expected += rec.record_id in absent
    for line in lines:
        r = rail(line.channel)
        r.lines += 1
        r.fee_lines += line.line_id in fees
    for m in result.matches:
        r = rail(m.channel)
        r.matched_lines += 1
        r.matched_records += len(m.record_ids)
    for b in result.breaks:
        rail(b.channel).breaks += 1
    return ReconSummary(
        run_id=run_id,
        as_of=as_of,
        generated_at=generated_at,
        rails=[rails[c] for c in sorted(rails)],
        breaks=list(result.breaks),
        counters=dict(result.counters),
        aggregates=list(aggregates),
    )


_CSV_COLUMNS = [
    "fingerprint",
    "kind",
    "grade",
    "action",
    "channel",
    "record_ids",
    "line_ids",
    "related",
    "currency",
    "expected",
    "actual",
    "detail",
]


def breaks_csv(summary: ReconSummary) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(_CSV_COLUMNS)
    for b in summary.breaks:
        d = _break_dict(b)
        writer.writerow(
            ";".join(v) if isinstance(v, list) else ("" if v is None else v)
            for v in (d[c] for c in _CSV_COLUMNS)
        )
    return buf.getvalue()


_GRADE_COLOURS = {"high": "#c0392b", "medium": "#d68910", "low": "#2e86c1"}

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#222}
h1{font-size:1.4rem;margin-bottom:.2rem} h2{font-size:1.1rem;margin-top:2rem}
.muted{color:#777;font-size:.85rem}
.tiles{display:flex;flex-wrap:wrap;gap:1rem;margin:1rem 0}
.tile{border:1px solid #ddd;border-radius:8px;padding:.8rem 1.2rem;min-width:8rem}
.tile b{display:block;font-size:1.5rem}
table{border-collapse:collapse;width:100%;font-size:.85rem}
th,td{border-bottom:1px solid #eee;padding:.3rem .5rem;text-align:left}
th{background:#f6f6f6} td.num{text-align:right;font-variant-numeric:tabular-nums}
.grade{display:inline-block;padding:0 .4rem;border-radius:4px;color:#fff}
"""


def _bar_chart(counts: dict[str, int]) -> str:
    """Horizontal bars, one per break category, scaled to the largest."""
    if not counts:
        return '<p class="muted">No breaks.</p>'
    bar_h, gap, label_w, bar_w = 18, 6, 190, 360
    top = max(counts.values())
    height = len(counts) * (bar_h + gap)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 60}" '
        f'height="{height}" role="img" aria-label="breaks by category">'
    ]
    for i, (kind, n) in enumerate(counts.items()):
        y = i * (bar_h + gap)
        w = max(1, round(bar_w * n / top))
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end" font-size="12">'
            f"{escape(kind)}</text>"
            f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar_h}" fill="#5d6d7e"/>'
            f'<text x="{label_w + w + 4}" y="{y + 13}" font-size="12">{n}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def render_html(summary: ReconSummary) -> str:
    c = summary.counters
    grades = summary.by_grade()
    total_rate = RailSummary(
        "all",
        records=sum(r.records for r in summary.rails),
        lines=sum(r.lines for r in summary.rails),
        matched_records=sum(r.matched_records for r in summary.rails),
        matched_lines=sum(r.matched_lines for r in summary.rails),
        pending=sum(r.pending for r in summary.rails),
        absent_as_expected=sum(r.absent_as_expected for r in summary.rails),
        fee_lines=sum(r.fee_lines for r in summary.rails),
    ).match_rate
    tiles = [
        ("Gateway records", c.get("records", 0)),
        ("Statement lines", c.get("lines", 0)),
        ("Matched records", c.get("matched_records", 0)),
        ("Match rate", f"{total_rate * 100:.2f}%"),
        ("Breaks", len(summary.breaks)),
        ("High-risk breaks", grades.get("high", 0)),
        ("Pending", c.get("pending", 0)),
    ]
    out = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Reconciliation {escape(summary.run_id)}</title><style>{_CSS}</style></head><body>",
        f"<h1>Reconciliation {escape(summary.run_id)}</h1>",
        f'<p class="muted">as of {summary.as_of.isoformat()} · generated '
        f"{escape(summary.generated_at.isoformat())}</p>",
        '<div class="tiles">',
        *(f'<div class="tile"><b>{escape(str(v))}</b>{escape(k)}</div>' for k, v in tiles),
        "</div>",
        "<h2>Match rate per rail</h2><table><tr><th>rail</th><th>records</th><th>lines</th>"
        "<th>matched records</th><th>pending</th><th>breaks</th><th>match rate</th></tr>",
    ]
    for r in summary.rails:
        out.append(
            f"<tr><td>{escape(r.channel)}</td><td class=num>{r.records}</td>"
            f"<td class=num>{r.lines}</td><td class=num>{r.matched_records}</td>"
            f"<td class=num>{r.pending}</td><td class=num>{r.breaks}</td>"
            f"<td class=num>{r.match_rate * 100:.2f}%</td></tr>"
        )
    out.append("</table><h2>Breaks by category</h2>")
    out.append(_bar_chart(summary.by_kind()))
    for grade in Grade:
        rows = [b for b in summary.breaks if b.grade is grade]
        colour = _GRADE_COLOURS[grade.value]
        out.append(
            f'<h2><span class="grade" style="background:{colour}">{grade.value}</span> '
            f"{len(rows)} break(s)</h2>"
        )
        if not rows:
            continue
        out.append(
            "<table><tr><th>kind</th><th>rail</th><th>records</th><th>lines</th>"
            "<th>expected</th><th>actual</th><th>proposed action</th><th>detail</th></tr>"
        )
        for b in rows[:HTML_ROWS_PER_GRADE]:
            out.append(
                f"<tr><td>{b.kind.value}</td><td>{escape(b.channel)}</td>"
                f"<td>{escape(', '.join(b.record_ids[:5]))}</td>"
                f"<td>{escape(', '.join(b.line_ids[:5]))}</td>"
                f"<td class=num>{'' if b.expected is None else b.expected}</td>"
                f"<td class=num>{'' if b.actual is None else b.actual}</td>"
                f"<td>{b.action.value}</td><td>{escape(b.detail)}</td></tr>"
            )
        out.append("</table>")
        if len(rows) > HTML_ROWS_PER_GRADE:
            out.append(
                f'<p class="muted">{len(rows) - HTML_ROWS_PER_GRADE} more in the CSV report.</p>'
            )
    if summary.aggregates:
        out.append(
            "<h2>Per rail and period</h2><table><tr><th>rail</th><th>period</th>"
            "<th>volume</th><th>success rate</th><th>settled amount</th></tr>"
        )
        for a in summary.aggregates:
            rate = a.success_rate
            amounts = ", ".join(f"{v} {ccy}" for ccy, v in sorted(a.amount.items()))
            out.append(
                f"<tr><td>{escape(a.channel)}</td><td>{a.period}</td>"
                f"<td class=num>{a.volume}</td>"
                f"<td class=num>{'–' if rate is None else f'{rate * 100:.2f}%'}</td>"
                f"<td class=num>{escape(amounts)}</td></tr>"
            )
        out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out)


def write_reports(summary: ReconSummary, out_dir: Path, stem: str) -> dict[str, Path]:
    """Write ``<stem>.json``, ``<stem>.csv`` (breaks) and ``<stem>.html``; return paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {fmt: out_dir / f"{stem}.{fmt}" for fmt in ("json", "csv", "html")}
    paths["json"].write_text(json.dumps(summary.to_dict(), indent=2) + "\n", encoding="utf-8")
    paths["csv"].write_text(breaks_csv(summary), encoding="utf-8")
    paths["html"].write_text(render_html(summary), encoding="utf-8")
    return paths
