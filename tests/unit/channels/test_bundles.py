"""Several payments in one pacs.008: which payments share a message, what the message says,
and how each payment's own answer is read back from the one status report."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paygate.channels.base import ChannelResult, Outcome, SubmissionRequest
from paygate.channels.bundles import bundle_size, group_for_messages
from paygate.channels.iso20022_rail import Iso20022Rail
from paygate.channels.json_rail import JsonRail
from paygate.channels.registry import ChannelEndpoint, endpoints_from
from paygate.errors import ChannelError, ChannelProtocolError, ConfigError
from paygate.messages.pacs002 import TxStatus, build_pacs002
from paygate.messages.pacs008 import parse_pacs008
from tests.unit.messages.msg_factories import CREATED, make_order

RAILS = {
    "rtgs": ChannelEndpoint(
        "rtgs", "http://r", Iso20022Rail("rtgs", max_transactions_per_message=3)
    ),
    "big": ChannelEndpoint("big", "http://b", Iso20022Rail("big", max_transactions_per_message=50)),
    "batch": ChannelEndpoint("batch", "http://x", Iso20022Rail("batch")),
    "card": ChannelEndpoint("card", "http://c", JsonRail("card")),
}
DATES = [None, dt.date(2026, 11, 24), dt.date(2026, 11, 25)]


def request(n: int, date: dt.date | None = None) -> SubmissionRequest:
    order = make_order(end_to_end_id=f"E2E-{n}", uetr=uuid.uuid4(), requested_execution_date=date)
    return SubmissionRequest(reference=f"P{n:015d}", order=order, now=CREATED)


def test_bundle_size_is_the_rails_own_and_one_for_other_protocols() -> None:
    assert [bundle_size(RAILS[r].adapter) for r in ("rtgs", "big", "batch", "card")] == [
        3,
        50,
        1,
        1,
    ]


@given(
    st.lists(
        st.tuples(st.sampled_from(sorted(RAILS)), st.sampled_from(DATES)),
        max_size=120,
    )
)
def test_every_payment_is_in_exactly_one_message_of_one_rail_and_date(
    items: list[tuple[str, dt.date | None]],
) -> None:
    indexed = list(enumerate(items))
    groups = group_for_messages(indexed, lambda i: RAILS[i[1][0]], lambda i: i[1][1])
    assert sorted(i for g in groups for i, _ in g) == list(range(len(items)))
    for group in groups:
        rails = {rail for _, (rail, _) in group}
        dates = {date for _, (_, date) in group}
        assert len(rails) == 1 and len(dates) == 1
        assert 1 <= len(group) <= bundle_size(RAILS[rails.pop()].adapter)
        assert [i for i, _ in group] == sorted(i for i, _ in group)
    # Nothing is split further than the size demands: per rail and date, all messages but
    # the last one are full.
    for rail, date in {(r, d) for r, d in items}:
        sizes = [len(g) for g in groups if g[0][1] == (rail, date)]
        limit = bundle_size(RAILS[rail].adapter)
        assert all(size == limit for size in sizes[:-1])


def test_a_bundle_is_one_pacs008_with_each_payments_reference_as_txid() -> None:
    rail = Iso20022Rail("rtgs", max_transactions_per_message=10)
    requests = [request(n) for n in range(7)]
    call = rail.bundle_call("B0123456789", requests)
    msg = parse_pacs008(call.body)
    assert call.path == "/pacs008"
    assert msg.msg_id == "B0123456789"
    assert [t.tx_id for t in msg.transactions] == [r.reference for r in requests]
    assert [t.order.uetr for t in msg.transactions] == [r.order.uetr for r in requests]
    assert {t.settlement_date for t in msg.transactions} == {CREATED.date()}


def test_alone_the_message_id_is_the_payments_reference() -> None:
    req = request(1)
    msg = parse_pacs008(Iso20022Rail("rtgs").submit_call(req).body)
    assert msg.msg_id == req.reference
    assert [t.tx_id for t in msg.transactions] == [req.reference]


def test_a_bundle_never_mixes_settlement_dates() -> None:
    rail = Iso20022Rail("rtgs", max_transactions_per_message=10)
    with pytest.raises(ValueError, match="settlement date"):
        rail.bundle_call("B1", [request(1), request(2, dt.date(2026, 11, 25))])


def _report(statuses: list[tuple[str, str, str | None]], group: str | None = None) -> bytes:
    return build_pacs002(
        [
            TxStatus(
                original_end_to_end_id="E2E",
                original_tx_id=ref,
                original_uetr=None,
                status=status,
                reason_code=reason,
            )
            for ref, status, reason in statuses
        ],
        msg_id="RPT1",
        created=CREATED,
        original_msg_id="B1",
        group_status=group,
    )


@given(
    st.lists(st.sampled_from(["ACSC", "ACSP", "RJCT", "PDNG"]), min_size=1, max_size=40),
    st.randoms(use_true_random=False),
)
def test_each_payment_gets_its_own_status_whatever_the_reports_order(
    codes: list[str], rnd: object
) -> None:
    requests = [request(n) for n in range(len(codes))]
    rows = [
        (r.reference, code, "AM04" if code == "RJCT" else None)
        for r, code in zip(requests, codes, strict=True)
    ]
    shuffled = list(rows)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    answers = Iso20022Rail("rtgs", max_transactions_per_message=50).read_bundle(
        200, _report(shuffled), requests
    )
    expected = {
        "ACSC": Outcome.SETTLED,
        "ACSP": Outcome.ACCEPTED,
        "RJCT": Outcome.REJECTED,
        "PDNG": Outcome.RECEIVED,
    }
    assert all(isinstance(a, ChannelResult) for a in answers)
    assert [a.outcome for a in answers if isinstance(a, ChannelResult)] == [
        expected[c] for c in codes
    ]
    assert [a.reason_code for a in answers if isinstance(a, ChannelResult)] == [
        reason for _, _, reason in rows
    ]
    assert [a.channel_reference for a in answers if isinstance(a, ChannelResult)] == [
        r.reference for r in requests
    ]


def test_a_payment_missing_from_the_report_is_left_to_inquiry_alone() -> None:
    requests = [request(n) for n in range(3)]
    body = _report([(requests[0].reference, "ACSC", None), (requests[2].reference, "ACSC", None)])
    answers = Iso20022Rail("rtgs", max_transactions_per_message=3).read_bundle(200, body, requests)
    assert isinstance(answers[1], ChannelProtocolError)
    assert requests[1].reference in str(answers[1])
    assert [getattr(a, "outcome", None) for a in (answers[0], answers[2])] == [Outcome.SETTLED] * 2


def test_an_unknown_status_spoils_only_its_own_payment() -> None:
    requests = [request(n) for n in range(2)]
    body = _report([(requests[0].reference, "XXXX", None), (requests[1].reference, "ACSC", None)])
    answers = Iso20022Rail("rtgs", max_transactions_per_message=2).read_bundle(200, body, requests)
    assert isinstance(answers[0], ChannelError)
    assert isinstance(answers[1], ChannelResult) and answers[1].outcome == Outcome.SETTLED


def test_a_group_status_alone_answers_for_every_payment() -> None:
    requests = [request(n) for n in range(4)]
    answers = Iso20022Rail("rtgs", max_transactions_per_message=4).read_bundle(
        200, _report([], group="RJCT"), requests
    )
    assert [getattr(a, "outcome", None) for a in answers] == [Outcome.REJECTED] * 4


def test_a_single_status_for_another_reference_is_not_taken_as_everyones() -> None:
    requests = [request(n) for n in range(2)]
    body = _report([("POTHER000000001", "ACSC", None)])
    answers = Iso20022Rail("rtgs", max_transactions_per_message=2).read_bundle(200, body, requests)
    assert all(isinstance(a, ChannelProtocolError) for a in answers)


def test_an_unreadable_report_raises_for_the_whole_message() -> None:
    with pytest.raises(ChannelProtocolError, match="unreadable"):
        Iso20022Rail("rtgs", max_transactions_per_message=2).read_bundle(
            200, b"<oops/>", [request(1), request(2)]
        )


@pytest.mark.parametrize("size", [0, -1, 1001])
def test_a_bundle_size_out_of_range_is_a_config_error_naming_the_channel(size: int) -> None:
    spec = {"protocol": "iso20022", "base_url": "http://r", "max_transactions_per_message": size}
    with pytest.raises(ConfigError, match=r"rtgs: max_transactions_per_message must be 1\.\.1000"):
        endpoints_from({"channels": {"rtgs": spec}})


def test_an_unknown_channel_option_is_a_config_error() -> None:
    spec = {"protocol": "iso20022", "base_url": "http://r", "max_txs": 5}
    with pytest.raises(ConfigError, match=r"rtgs: .*max_txs"):
        endpoints_from({"channels": {"rtgs": spec}})


def test_an_unknown_option_on_a_json_channel_is_a_config_error_too() -> None:
    spec = {"protocol": "json", "base_url": "http://c", "max_transactions_per_message": 5}
    with pytest.raises(ConfigError, match=r"card: .*max_transactions_per_message"):
        endpoints_from({"channels": {"card": spec}})
