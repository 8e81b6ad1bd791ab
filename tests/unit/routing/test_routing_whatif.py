from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from routing import RouteRequest, RoutingConfig, Snapshot, load_config_text, whatif
from tests.unit.routing.routing_demo import DEMO, TUESDAY_10


def requests(n: int) -> list[RouteRequest]:
    return [
        RouteRequest(
            payment_id=f"w{i}",
            amount=Decimal(100 + i),
            currency="EUR",
            product="payroll" if i % 2 else None,
            routed_at=TUESDAY_10 + dt.timedelta(minutes=i),
        )
        for i in range(n)
    ]


def test_whatif_reports_changes_volume_fees_and_latency(demo: RoutingConfig) -> None:
    # Candidate: payroll goes to instant instead of batch.
    candidate = load_config_text(
        DEMO.read_text().replace(
            "    channel: batch\n    fallbacks: [instant]", "    channel: instant"
        )
    )
    report = whatif(requests(10), demo, candidate, Snapshot())
    assert (report.total, report.changed) == (10, 5)
    assert {(c.active, c.candidate) for c in report.examples} == {("batch", "instant")}
    assert report.active.volume["batch"].count == 10
    assert report.candidate.volume["batch"].count == 5
    assert report.candidate.volume["instant"].count == 5
    assert report.active.fees == {"EUR": Decimal("2.00")}
    assert report.candidate.fees == {"EUR": Decimal("5.00")}
    assert report.fee_delta == {"EUR": Decimal("3.00")}
    assert report.candidate.mean_expected_seconds is not None
    assert report.active.mean_expected_seconds is not None
    assert report.candidate.mean_expected_seconds < report.active.mean_expected_seconds
    assert report.to_dict()["fee_delta"] == {"EUR": "3.00"}


def test_whatif_accepts_pairs_and_needs_a_time(demo: RoutingConfig) -> None:
    req = RouteRequest(payment_id="x", amount=Decimal(1), currency="EUR")
    assert whatif([(req, TUESDAY_10)], demo, demo, Snapshot()).changed == 0
    with pytest.raises(ValueError, match="no routed_at"):
        whatif([req], demo, demo, Snapshot())
