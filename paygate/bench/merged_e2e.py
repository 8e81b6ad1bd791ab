"""End-to-end rate of merged items (并笔, issue 6): the bodies, merge rules and queries of the
``merged_e2e`` phase of ``paygate bench --only http`` (``bench_cmd`` orchestrates).

Method: ``count`` small payroll payments are posted through ``POST /v1/payments`` by their own
client while nothing dispatches, parked, then released at once to ``paygate serve`` with the
merge rules below. Each item goes ``validated → pending_merge`` (``MergeWorker.intake``), the
merge worker closes merges, the dispatcher routes and sends each aggregate to the rail, and
the settled answer fans out to every item (``settle_merge``). The figure is settled items /
(last item's ``settled`` event - release), from the database's own timestamps.

Choices:

- **Rail: ``citybank``, so the items are CNY.** It is the one rail of the demo routing
  configuration that accepts merged payments and settles at once (``batch``, the other one,
  settles only at its 30-minute cycles, which would time the cycle, not the gateway). It
  carries CNY only, domestic (CN to CN), and is open 09:00-17:00 Asia/Shanghai, so this phase
  runs the gateway and its own simulated rails on ``MERGE_CLOCK`` (10:35 in Shanghai) rather
  than the HTTP phase's Berlin morning, when citybank is closed. Payees bank at a city partner
  (``BKSHCNSHXXX``, routing rule ``city-partners``); their accounts are CN BBANs (China has
  no IBAN) with a mod-97 check pair, one account per payee.
- **Every item closes on the items cap.** ``PAYEES`` payees get ``count / PAYEES`` items each
  and ``close_early_at_items`` is half that (``rules``; 20 payees x 500 items, cap 250 for
  the default 10,000; ``sized`` rounds ``count`` down to a multiple of ``2 * PAYEES``): every
  merge closes full, as soon as its 250th item is pending, never by waiting for a window
  boundary (the window, 30 minutes, is 25 minutes away on
  ``MERGE_CLOCK``; the cut-off, 17:00, is further still). Amounts are at most 1,000.00, so a
  merge (at most 250,000.00) stays far under citybank's 5,000,000 per payment.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
import uuid
from typing import Any

import asyncpg

MERGE_CLOCK = dt.datetime(2026, 11, 24, 2, 35, tzinfo=dt.UTC)  # Tue 10:35 Asia/Shanghai
PAYEES = 20
RULE_ID = "bench-payroll-cny"
CLIENT_NAME = "bench-merged"


def sized(count: int) -> int:
    """``count`` rounded down so that every payee's items fill exactly two merges."""
    return max(count // (2 * PAYEES), 2) * 2 * PAYEES


def rules(count: int) -> str:
    return f"""# paygate bench: merged end to end (written by paygate/bench/merged_e2e.py)
version: "bench-merged-1"
rules:
  - id: {RULE_ID}
    match:
      products: [payroll]
      currency: CNY
    max_item_amount: "1000.00"
    channels: [citybank]
    window:
      every_minutes: 30
      timezone: Asia/Shanghai
    close_early_at_items: {count // (2 * PAYEES)}
    on_reject: next_window
    safety_margin_minutes: 2
"""


def _account(p: int) -> str:
    # A BBAN-like account number with an ISO 7064 mod-97 check pair, as IBANs carry.
    body = f"62170012{p:010d}"
    return f"{body}{98 - int(body + '00') % 97:02d}"


def bodies(count: int, headers: dict[str, str]) -> list[tuple[bytes, dict[str, str]]]:
    """``count`` payroll orders (CNY, 1.00 to 1,000.00) to ``PAYEES`` payees in turn, each
    with its own ``Idempotency-Key``."""
    base = {**headers, "Content-Type": "application/json"}
    out = []
    for n in range(count):
        p = n % PAYEES
        cents = 100 + (n * 7919) % 99_901  # 1.00 .. 1,000.00
        body = {
            "amount": {"value": f"{cents // 100}.{cents % 100:02d}", "currency": "CNY"},
            "debtor": {"name": "Acme Shanghai Trading Co"},
            "debtor_account": {"other": "31001000000000000001", "scheme": "BBAN"},
            "debtor_agent": {"bic": "ICBKCNBJXXX"},
            "debtor_country": "CN",
            "creditor": {"name": f"Employee {p}"},
            "creditor_account": {"other": _account(p), "scheme": "BBAN"},
            "creditor_agent": {"bic": "BKSHCNSHXXX"},
            "creditor_country": "CN",
            "end_to_end_id": f"MRG-BENCH-{n:07d}",
            "remittance": {"unstructured": f"Salary {n}"},
            "product": "payroll",
            "business_category": "SALA",
        }
        out.append(
            (
                json.dumps(body, separators=(",", ":")).encode(),
                {**base, "Idempotency-Key": str(uuid.uuid4())},
            )
        )
    return out


async def client_id(conn: asyncpg.Connection) -> uuid.UUID:
    return uuid.UUID(
        str(await conn.fetchval("SELECT id FROM clients WHERE name = $1", CLIENT_NAME))
    )


async def drain(
    conn: asyncpg.Connection, client: uuid.UUID, count: int, timeout_s: float = 300
) -> dict[str, Any]:
    """Release the parked items and time them to ``settled``; then check that every item
    settled exactly once and in exactly one merge, and that the merges add up."""
    released = await conn.fetchval(
        "WITH r AS (UPDATE payments SET next_action_at = now() WHERE next_action = 'dispatch' "
        "AND client_id = $1 RETURNING 1) SELECT now() FROM r LIMIT 1",
        client,
    )
    started = time.monotonic()
    settled = 0
    while time.monotonic() - started < timeout_s:
        settled = await conn.fetchval(
            "SELECT count(*) FROM payments WHERE client_id = $1 AND status = 'settled'", client
        )
        if settled >= count:
            break
        await asyncio.sleep(0.1)
    wall = time.monotonic() - started
    # Database timestamps only: events are stamped with clock_timestamp(), merges with the
    # start of the closing transaction.
    ev = await conn.fetchrow(
        """SELECT max(e.at) FILTER (WHERE e.to_status = 'pending_merge') AS intake_done,
                  max(e.at) FILTER (WHERE e.to_status = 'settled') AS last_settled,
                  count(*) FILTER (WHERE e.to_status = 'settled') AS settled_events
           FROM payment_events e JOIN payments p ON p.id = e.payment_id
           WHERE p.client_id = $1 AND e.at >= $2""",
        client,
        released,
    )
    merges = await conn.fetchrow(
        """SELECT count(*) AS merges,
                  count(*) FILTER (WHERE m.status = 'settled') AS settled,
                  min(m.created_at) AS first_closed, max(m.created_at) AS last_closed,
                  min(m.item_count) AS min_items, max(m.item_count) AS max_items,
                  sum(m.item_count) AS items, sum(m.total) AS total,
                  sum(m.fee_charged) AS fee_charged, sum(m.fee_if_single) AS fee_if_single,
                  array_agg(DISTINCT m.channel) AS channels,
                  array_agg(DISTINCT m.reason) AS reasons
           FROM merges m WHERE m.created_at >= $1""",
        released,
    )
    check = await conn.fetchrow(
        """WITH per_item AS (
               SELECT p.id, p.amount,
                   (SELECT count(*) FROM payment_events e
                    WHERE e.payment_id = p.id AND e.to_status = 'settled') AS settled_events,
                   (SELECT count(*) FROM merge_items i
                    WHERE i.payment_id = p.id AND NOT i.released) AS live_links
               FROM payments p WHERE p.client_id = $1)
           SELECT count(*) AS items,
                  count(*) FILTER (WHERE settled_events <> 1) AS not_settled_once,
                  count(*) FILTER (WHERE live_links <> 1) AS not_in_one_merge,
                  sum(amount) AS amount
           FROM per_item""",
        client,
    )
    # Each merge's total and count against its live items.
    mismatched = await conn.fetchval(
        """SELECT count(*) FROM merges m
           JOIN (SELECT merge_id, count(*) AS n, sum(amount) AS s FROM merge_items
                 WHERE NOT released GROUP BY merge_id) i ON i.merge_id = m.id
           WHERE m.created_at >= $1 AND (i.n <> m.item_count OR i.s <> m.total)""",
        released,
    )

    def since(at: dt.datetime | None) -> float | None:
        return None if at is None else round((at - released).total_seconds(), 2)

    drain_s = since(ev["last_settled"]) or wall
    n_merges = merges["merges"] or 0
    exact = (
        check["items"] == count
        and settled == count
        and ev["settled_events"] == count
        and check["not_settled_once"] == 0
        and check["not_in_one_merge"] == 0
        and mismatched == 0
        and merges["items"] == count
        and merges["total"] == check["amount"]
    )
    fee_charged, fee_single = merges["fee_charged"], merges["fee_if_single"]
    return {
        "items": count,
        "settled": settled,
        "drain_s": round(drain_s, 2),
        "items_settled_per_s": round(settled / max(drain_s, 0.001), 1),
        "intake_done_s": since(ev["intake_done"]),
        "first_merge_closed_s": since(merges["first_closed"]),
        "last_merge_closed_s": since(merges["last_closed"]),
        "merges": n_merges,
        "merges_settled": merges["settled"],
        "items_per_merge": round(count / n_merges, 1) if n_merges else None,
        "items_per_merge_min_max": [merges["min_items"], merges["max_items"]],
        "close_reasons": merges["reasons"],
        "channels": merges["channels"],
        "fee_charged": str(fee_charged) if fee_charged is not None else None,
        "fee_if_single": str(fee_single) if fee_single is not None else None,
        "every_item_settled_once_in_one_merge": exact,
        "check": {
            "items_not_settled_exactly_once": check["not_settled_once"],
            "items_not_in_exactly_one_merge": check["not_in_one_merge"],
            "merges_whose_items_do_not_add_up": mismatched,
            "items_in_merges": merges["items"],
        },
    }
