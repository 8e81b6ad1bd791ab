"""Pure parts of the load generator: request bodies, header parsing, the recorder."""

from __future__ import annotations

import argparse
import json
import re
import uuid

import pytest

from loadtest.__main__ import parse_header
from loadtest.bodies import ACCOUNTS, DOMESTIC_ACCOUNTS, request_stream
from loadtest.result import Recorder
from loadtest.runner import sustainable


def _iban_ok(iban: str) -> bool:
    moved = iban[4:] + iban[:4]
    digits = "".join(str(int(c, 36)) for c in moved)
    return int(digits) % 97 == 1


def _take(kind: str, seed: int, n: int) -> list[tuple[bytes | None, dict[str, str]]]:
    stream = request_stream(kind, seed, {"Authorization": "Bearer k"})
    return [next(stream) for _ in range(n)]


def test_payment_bodies_are_valid_varied_and_deterministic() -> None:
    first = _take("payment", 7, 200)
    again = _take("payment", 7, 200)
    other = _take("payment", 8, 200)
    assert [b for b, _ in first] == [b for b, _ in again]
    assert [b for b, _ in first] != [b for b, _ in other]
    docs = [json.loads(b or b"") for b, _ in first]
    assert [d["end_to_end_id"] for d in docs] == [f"E2E-{n}" for n in range(1, 201)]
    assert {d["amount"]["currency"] for d in docs} == {"EUR"}
    assert len({d["amount"]["value"] for d in docs}) > 150
    bics = {bic for _, bic, _ in ACCOUNTS}
    for d in docs:
        assert re.fullmatch(r"[1-9]\d*\.\d{2}", d["amount"]["value"])
        assert _iban_ok(d["debtor_account"]["iban"])
        assert _iban_ok(d["creditor_account"]["iban"])
        assert d["debtor_account"]["iban"] != d["creditor_account"]["iban"]
        assert d["creditor_agent"]["bic"] in bics
        assert d["remittance"]["unstructured"] == f"Invoice {d['end_to_end_id'][4:]}"
        assert d["product"] == "supplier"
    assert len({d["creditor_account"]["iban"] for d in docs}) == len(ACCOUNTS)


def test_domestic_bodies_stay_in_germany_between_different_accounts() -> None:
    docs = [json.loads(b or b"") for b, _ in _take("domestic", 7, 200)]
    bics = {bic for _, bic, _ in DOMESTIC_ACCOUNTS}
    for d in docs:
        assert d["debtor_account"]["iban"][:2] == d["creditor_account"]["iban"][:2] == "DE"
        assert d["debtor_account"]["iban"] != d["creditor_account"]["iban"]
        assert _iban_ok(d["debtor_account"]["iban"]) and _iban_ok(d["creditor_account"]["iban"])
        assert d["creditor_agent"]["bic"] in bics and d["creditor_agent"]["bic"][4:6] == "DE"
    assert len({d["creditor_account"]["iban"] for d in docs}) == len(DOMESTIC_ACCOUNTS)


def test_payment_headers_carry_unique_uuid4_idempotency_keys() -> None:
    headers = [h for _, h in _take("payment", 1, 500)]
    keys = [h["Idempotency-Key"] for h in headers]
    assert len(set(keys)) == 500
    assert all(uuid.UUID(k).version == 4 for k in keys)
    assert all(h["Authorization"] == "Bearer k" for h in headers)
    assert all(h["Content-Type"] == "application/json" for h in headers)


def test_echo_and_none_bodies() -> None:
    (body, headers), *_ = _take("echo", 1, 3)
    assert json.loads(body or b"")["n"] == 1
    assert "Idempotency-Key" not in headers
    assert _take("none", 1, 1)[0][0] is None
    with pytest.raises(ValueError, match="unknown body kind"):
        next(request_stream("xml", 1))


def test_parse_header() -> None:
    assert parse_header("Authorization: Bearer a:b") == ("Authorization", "Bearer a:b")
    assert parse_header("X-Test:1") == ("X-Test", "1")
    with pytest.raises(argparse.ArgumentTypeError):
        parse_header("no colon here")


def test_recorder_buckets_latencies_and_errors_by_second() -> None:
    rec = Recorder(start=100.0)
    for i in range(10):
        rec.sent(100.0 + i * 0.1, 0.0, 0.01)
    rec.sent(101.5, 0.02, 0.01)  # one late send
    for i in range(8):
        rec.answer(201, origin=100.0 + i * 0.1, done=100.0 + i * 0.1 + 0.005)
    rec.answer(503, origin=100.8, done=101.2)
    rec.failure("timeout", done=101.9)
    result = rec.result(
        mode="open",
        url="http://x/",
        method="POST",
        body_kind="echo",
        rate=10.0,
        concurrency=0,
        duration_s=1.0,
        warmup_s=0.0,
        scheduled=11,
        cpu_s=0.5,
        wall_s=2.0,
        end=101.0,
    )
    assert (result.sent, result.completed, result.late) == (11, 8, 1)
    assert result.errors == {"503": 1, "timeout": 1}
    assert result.histogram.get_total_count() == 9
    assert 4.9 <= result.p50_ms <= 5.1
    assert 399.0 <= result.max_ms <= 401.0
    assert [(s.t, s.sent, s.completed, s.errors) for s in result.timeline] == [
        (0, 10, 8, 0),
        (1, 1, 0, 2),
    ]
    assert result.timeline[1].p50_ms is not None and result.timeline[1].p50_ms > 399.0
    # 10 answers spread over 101.9 - 100.005 s: 9 gaps, so a span of 10/9 of that
    assert result.achieved_rps == pytest.approx(8 / ((101.9 - 100.005) * 10 / 9))
    assert result.client_cpu_util == pytest.approx(0.25)
    assert not sustainable(result)  # errors above 0.1 %


def test_recorder_sustainable_when_clean() -> None:
    rec = Recorder(start=0.0)
    for i in range(100):
        rec.sent(i / 100, 0.0, 0.01)
        rec.answer(200, origin=i / 100, done=i / 100 + 0.002)
    result = rec.result(
        mode="open",
        url="u",
        method="POST",
        body_kind="echo",
        rate=100.0,
        concurrency=0,
        duration_s=1.0,
        warmup_s=0.0,
        scheduled=100,
        cpu_s=0.1,
        wall_s=1.0,
        end=1.0,
    )
    assert result.achieved_rps == pytest.approx(100.0)
    assert sustainable(result)
    assert not sustainable(result, p99_limit_ms=1.0)
    result.dropped = 1
    assert not sustainable(result)
