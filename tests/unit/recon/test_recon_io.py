"""CSV import, idempotent statement book, business days, aggregates and reports."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from paygate.errors import ValidationFailed
from paygate.recon.aggregates import aggregate
from paygate.recon.business_days import BusinessCalendar
from paygate.recon.csv_import import CsvMapping, import_csv
from paygate.recon.matching import match
from paygate.recon.report import summarize, write_reports
from paygate.recon.statement_book import StatementBook
from tests.unit.recon.recon_factories import AS_OF, TOL, line_for, loose_line, rec

CSV = """reference,end_to_end_id,amount,currency,fee,net,value_date,status
TX1,E2E1,100.00,EUR,1.50,101.50,2024-03-01,settled
TX2,,20.00,EUR,,,2024-03-01,settled
TX3,E2E3,30.00,EUR,0.30,30.30,2024-03-01,declined
TX4,E2E4,abc,EUR,0,abc,2024-03-01,settled
TX5,E2E5,50.00,EUR,1.00,49.00,2024-03-01,settled
"""


def test_csv_import_splits_fees_skips_declined_and_reports_bad_rows() -> None:
    out = import_csv(CSV, statement_id="CARD-1", channel="card")
    payments = [ln for ln in out.lines if not ln.is_fee]
    fees = [ln for ln in out.lines if ln.is_fee]
    assert [(p.tx_id, p.amount) for p in payments] == [
        ("TX1", Decimal("100.00")),
        ("TX2", Decimal("20.00")),
    ]
    assert [f.amount for f in fees] == [Decimal("1.50")]
    assert payments[1].end_to_end_id is None
    assert out.skipped == 1
    assert [e.pointer for e in out.errors] == ["/rows/5/amount", "/rows/6/net"]
    assert len({ln.line_id for ln in out.lines}) == len(out.lines)


def test_csv_net_may_be_gross_minus_fee_when_configured() -> None:
    text = "reference,end_to_end_id,amount,currency,fee,net,value_date,status\n"
    text += "TX1,E2E1,100.00,EUR,1.50,98.50,2024-03-01,settled\n"
    default = import_csv(text, statement_id="C", channel="card")
    assert [e.pointer for e in default.errors] == ["/rows/2/net"]
    payout = import_csv(
        text, statement_id="C", channel="card", mapping=CsvMapping(net_includes_fee=False)
    )
    assert not payout.errors and [ln.amount for ln in payout.lines] == [
        Decimal("100.00"),
        Decimal("1.50"),
    ]


def test_csv_matches_gross_and_posts_fee_separately() -> None:
    r1 = rec(1, channel="card", amount="100.00", counterparty=None)
    r2 = rec(2, channel="card", amount="20.00", counterparty=None)
    out = import_csv(CSV, statement_id="CARD-1", channel="card")
    result = match([r1, r2], out.lines, tolerances=TOL, as_of=AS_OF)
    assert not result.breaks and len(result.matches) == 2 and len(result.fee_lines) == 1


def test_csv_mapping_renames_columns_and_decimal_comma() -> None:
    text = "ref;amt;ccy;date\nA1;1.234,50;eur;01.03.2024\n"
    mapping = CsvMapping(
        reference="ref",
        amount="amt",
        currency="ccy",
        value_date="date",
        end_to_end_id=None,
        fee=None,
        net=None,
        status=None,
        delimiter=";",
        decimal_separator=",",
        date_format="%d.%m.%Y",
    )
    (line,) = import_csv(text, statement_id="S", channel="card", mapping=mapping).lines
    assert (line.amount, line.currency, line.value_date) == (
        Decimal("1234.50"),
        "EUR",
        date(2024, 3, 1),
    )


def test_csv_missing_column_is_a_validation_error() -> None:
    with pytest.raises(ValidationFailed) as err:
        import_csv("reference,amount\nA,1\n", statement_id="S", channel="card")
    assert "/header/currency" in [e.pointer for e in err.value.errors]


def test_same_statement_twice_adds_nothing_and_changed_content_conflicts() -> None:
    lines = import_csv(CSV, statement_id="CARD-1", channel="card").lines
    book = StatementBook()
    assert book.add(lines).added == 3
    again = book.add(import_csv(CSV, statement_id="CARD-1", channel="card").lines)
    assert (again.added, again.unchanged, again.conflicts) == (0, 3, [])
    altered = import_csv(
        CSV.replace("20.00,EUR", "21.00,EUR"), statement_id="CARD-1", channel="card"
    )
    assert book.add(altered.lines).conflicts == ["CARD-1#3"]
    assert len(book) == 3


@pytest.mark.parametrize(
    ("start", "n", "holidays", "expected"),
    [
        (date(2024, 3, 15), 1, [], date(2024, 3, 18)),  # Fri + 1 = Mon
        (date(2024, 3, 16), 0, [], date(2024, 3, 18)),  # Sat rolls to Mon
        (date(2024, 3, 14), 2, [date(2024, 3, 18)], date(2024, 3, 19)),  # over a Mon holiday
    ],
)
def test_business_days_add(start: date, n: int, holidays: list[date], expected: date) -> None:
    assert BusinessCalendar(holidays).add(start, n) == expected


def test_business_day_difference_matches_stepping() -> None:
    cal = BusinessCalendar([date(2024, 3, 20)])
    start = date(2024, 3, 1)
    for k in range(40):
        d = cal.add(start, k)
        assert cal.difference(start, d) == k


def test_aggregates_per_rail_and_period() -> None:
    records = [
        rec(1, amount="10.00"),
        rec(2, amount="5.00", value_date=date(2024, 3, 2)),
        rec(3, status="failed"),
        rec(4, status="submitted"),
        rec(5, channel="instant", currency="USD"),
    ]
    daily = {(a.channel, a.period): a for a in aggregate(records, "day")}
    assert daily[("rtgs", "2024-03-01")].volume == 3
    assert daily[("rtgs", "2024-03-01")].success_rate == Decimal("0.5000")
    monthly = aggregate(records, "month")
    assert [(a.channel, a.period, a.volume) for a in monthly] == [
        ("instant", "2024-03", 1),
        ("rtgs", "2024-03", 4),
    ]
    assert monthly[1].amount == {"EUR": Decimal("15.00")}


def test_reports_are_written_and_self_contained(tmp_path: Path) -> None:
    records = [rec(i) for i in range(4)] + [rec(7, channel="instant")]
    lines = [line_for(r) for r in records[:3]] + [
        loose_line(9, "3.00", tx_id="??"),
        line_for(records[3], seq=10, amount=Decimal("99.50")),
    ]
    result = match(records, lines, tolerances=TOL, as_of=AS_OF)
    summary = summarize(
        result,
        records,
        lines,
        run_id="R1",
        as_of=AS_OF,
        generated_at=datetime(2024, 3, 15, 18, tzinfo=UTC),
        aggregates=aggregate(records),
    )
    paths = write_reports(summary, tmp_path / "reports", "recon-R1")
    assert set(paths) == {"json", "csv", "html"} and all(p.exists() for p in paths.values())
    doc = json.loads(paths["json"].read_text())
    assert doc["breaks_by_kind"] == {
        "missing_in_statement": 1,
        "missing_in_gateway": 1,
        "fee_deducted": 1,
    }
    assert {r["channel"]: r["match_rate"] for r in doc["rails"]} == {
        "instant": "0.0000",
        "rtgs": "0.6667",  # 3 + 3 matched of 4 records + 5 lines,
    }
    csv_rows = paths["csv"].read_text().splitlines()
    assert len(csv_rows) == 4 and csv_rows[0].startswith("fingerprint,kind")
    html = paths["html"].read_text()
    assert "<svg" in html and "fee_deducted" in html and "<style>" in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "<script" not in html
