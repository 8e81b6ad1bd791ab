"""A reconciliation world: payments really settled (or rejected) by the simulated rtgs rail
over HTTP, and the gateway's own record of them written with the payment repository, as
the dispatcher would have left it."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

import aiohttp

from paygate.domain import PaymentOrder, PaymentStatus, parse_model
from paygate.recon.service import RunResult
from paygate.store import payments as repo
from paygate.store.clients import ensure_client
from tests.integration.gateway.harness import order
from tests.integration.simulators.sim_messages import Tx, pacs008

# Wednesday 2024-01-17 07:30 UTC = 08:30 Berlin: rtgs is open.
OPEN_TIME = dt.datetime(2024, 1, 17, 7, 30, tzinfo=dt.UTC)
DAY = OPEN_TIME.date()
AS_OF = DAY + dt.timedelta(days=5)  # past every due date
ALL_KINDS = "drop:1,amount:1,fee:1,duplicate:1,unknown:1,value_date:1,settled_but_failed:1"
XML = {"Content-Type": "application/xml"}
S = PaymentStatus

# Planted kind -> the one break category that is right for it.
EXPECTED = {
    "drop": "missing_in_statement",
    "amount": "amount_mismatch",
    "fee": "fee_deducted",
    "duplicate": "duplicate_in_statement",
    "unknown": "missing_in_gateway",
    "value_date": "value_date_difference",
    "settled_but_failed": "status_mismatch",
}


@dataclass(frozen=True)
class Booked:
    payment_id: uuid.UUID
    tx: Tx


async def submit(base: str, txs: list[Tx], msg_id: str) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{base}/pacs008", data=pacs008(txs, msg_id), headers=XML) as resp,
    ):
        assert resp.status == 200, await resp.text()


async def statement(base: str, fmt: str, day: dt.date = DAY, **params: str) -> tuple[str, bytes]:
    q = {"date": day.isoformat(), "format": fmt, "currency": "EUR", **params}
    async with aiohttp.ClientSession() as http, http.get(f"{base}/_statement", params=q) as resp:
        assert resp.status == 200, await resp.text()
        return resp.headers["X-Statement-Id"], await resp.read()


async def planted(base: str, stmt_id: str) -> list[dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{base}/_statement/planted", params={"id": stmt_id}) as resp,
    ):
        assert resp.status == 200
        rows: list[dict[str, Any]] = await resp.json()
        return rows


async def record(
    pool: Any, tx: Tx, final: PaymentStatus, *, channel: str = "rtgs", n: int = 0
) -> uuid.UUID:
    """The gateway's row for ``tx``: inserted, routed, submitted under the TxId, then
    ``final`` — the path the dispatcher takes."""
    body = order(n, amount=tx.amount, currency=tx.ccy, uetr=tx.uetr)
    body["end_to_end_id"] = tx.e2e or tx.tx_id
    parsed = parse_model(PaymentOrder, body)
    async with pool.acquire() as conn, conn.transaction():
        client = await ensure_client(conn, "recon-tests")
        _, response = await repo.insert_payment(
            conn,
            repo.NewPayment(
                client_id=client,
                idempotency_key=tx.tx_id,
                fingerprint=tx.tx_id.encode(),
                order=parsed,
                order_doc=parsed.model_dump(mode="json"),
            ),
            OPEN_TIME,
        )
        pid = uuid.UUID(response["id"])
        await repo.transition(
            conn, pid, S.VALIDATED, S.ROUTED, "routed", set_fields={"channel": channel}
        )
        await repo.transition(
            conn, pid, S.ROUTED, S.SUBMITTED, "sent", set_fields={"channel_reference": tx.tx_id}
        )
        await repo.transition(conn, pid, S.SUBMITTED, final, "rail answered")
    return pid


async def book_day(pool: Any, base: str, tag: str, count: int = 10) -> list[Booked]:
    """``count`` settled payments and one the rail rejects (AM04, funds), both sides."""
    txs = [Tx(f"{tag}-{i}", f"{100 + i}.00", e2e=f"E2E-{tag}-{i}") for i in range(count)]
    await submit(base, txs, f"MSG-{tag}")
    big = Tx(f"{tag}-AM04", "600000000.00", e2e=f"E2E-{tag}-AM04")
    await submit(base, [big], f"BIG-{tag}")
    out = [Booked(await record(pool, tx, S.SETTLED, n=i), tx) for i, tx in enumerate(txs)]
    out.append(Booked(await record(pool, big, S.REJECTED, n=count), big))
    return out


async def break_refs(pool: Any, run: RunResult) -> Counter[tuple[str, str]]:
    """(category, the payment's TxId) for every break of ``run``: by the payment the
    gateway knows, else by the statement line's own reference."""
    found: Counter[tuple[str, str]] = Counter()
    async with pool.acquire() as conn:
        for b in run.breaks:
            if b.record_ids:
                ref = await conn.fetchval(
                    "SELECT channel_reference FROM payments WHERE id = $1",
                    uuid.UUID(b.record_ids[0]),
                )
            else:
                ref = await conn.fetchval(
                    "SELECT coalesce(tx_id, entry_ref) FROM recon_statement_lines"
                    " WHERE channel = $1 AND line_id = $2",
                    b.channel,
                    b.line_ids[0],
                )
            found[(b.kind.value, str(ref))] += 1
    return found
