from __future__ import annotations

import datetime as dt
from decimal import Decimal

from paygate.messages.camt import build_camt053, parse_camt053
from paygate.messages.mt.statement import build_mt940, parse_mt_statements
from paygate.messages.statements import Balance, Statement, StatementEntry

DAY = dt.date(2024, 5, 6)
CREATED = dt.datetime(2024, 5, 6, 18, 0, tzinfo=dt.UTC)
UETR = "6c0a0a36-8f2f-4b1e-9d7a-2a6f3f0c1e11"


def _statement(n: int) -> Statement:
    return Statement(
        source="camt.053.001.08",
        statement_id="STMT-1",
        account="DE89370400440532013000",
        currency="EUR",
        sequence=7,
        opening_balance=Balance(Decimal("100.00"), "EUR", DAY, "CRDT", "OPBD"),
        closing_balance=Balance(Decimal(100 + 10 * n), "EUR", DAY, "CRDT", "CLBD"),
        entries=[
            StatementEntry(
                Decimal("10.00"),
                "EUR",
                "CRDT",
                DAY,
                DAY,
                f"E2E-{i}",
                None,
                (f"E2E-{i}",),
                (f"TX-{i}",),
                (UETR,),
            )
            for i in range(n)
        ],
    )


def test_camt053_round_trip_keeps_references_and_balances() -> None:
    xml = build_camt053([_statement(3)], msg_id="B1", created=CREATED)
    [st] = parse_camt053(xml)
    assert st.account == "DE89370400440532013000" and st.sequence == 7
    assert st.closing_balance.amount == Decimal(130)
    assert [e.tx_ids for e in st.entries] == [("TX-0",), ("TX-1",), ("TX-2",)]
    assert st.entries[0].uetrs == (UETR,)


def test_batch_booking_counts_are_read() -> None:
    batch = StatementEntry(
        Decimal("30.00"),
        "EUR",
        "DBIT",
        DAY,
        DAY,
        "B",
        None,
        ("A", "B", "C"),
        (),
        (),
        batch_count=3,
        batch_total=Decimal("30.00"),
    )
    st = _statement(0)
    xml = build_camt053(
        [Statement(**{**st.__dict__, "entries": [batch]})], msg_id="B", created=CREATED
    )
    [entry] = parse_camt053(xml)[0].entries
    assert entry.batch_count == 3 and entry.end_to_end_ids == ("A", "B", "C")


def test_mt940_pages_carry_28c_and_intermediate_balances() -> None:
    pages = build_mt940(
        _statement(5), sender_bic="COBADEFFXXX", receiver_bic="BNPAFRPPXXX", max_entries_per_page=2
    )
    assert len(pages) == 3
    assert ":28C:7/1\r\n" in pages[0] and ":62M:C240506EUR120,\r\n" in pages[0]
    assert ":60M:C240506EUR120," in pages[1] and ":62F:C240506EUR150," in pages[2]
    statements = parse_mt_statements("\r\n".join(pages))
    assert [s.page for s in statements] == [1, 2, 3]
    assert sum(len(s.entries) for s in statements) == 5
    assert statements[0].entries[0].end_to_end_ids == ("E2E-0",)
    assert statements[0].entries[0].uetrs == (UETR,)
