"""Reconciliation benchmark: n gateway records against n statement lines, and the
statement import rate.

``run`` generates the two sides with a few per cent of planted breaks, times ``match``
alone and reports peak RSS for the whole process (generation included, since the data
must be in memory to be matched). Targets for 1M/1M: <= 30 s and <= 1.5 GB.

``import_rates`` builds a camt.053 and an MT940 statement of n entries with paygate's own
builders, then times the two halves of an import: parsing into reconciliation lines
(``service.parse_statement``: detection, parse, lines, header hash) and storing them
through ``repository.import_statement`` into PostgreSQL (rolled back, so the database is
left as it was and a second run measures the same work).

    python -m paygate.bench.recon_bench [n]
    python -m paygate.bench.recon_bench --import DSN [n]
"""

from __future__ import annotations

import asyncio
import gc
import random
import resource
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import asyncpg

from paygate.messages.camt import build_camt053
from paygate.messages.mt.statement import build_mt940
from paygate.messages.statements import Balance, Statement, StatementEntry
from paygate.recon import repository as repo
from paygate.recon.matching import Tolerances, match
from paygate.recon.records import GatewayRecord, StatementLine, content_hash
from paygate.recon.service import parse_statement
from paygate.store.migrate import migrate

AS_OF = date(2024, 3, 15)
CHANNELS = ("rtgs", "batch", "instant", "swift")
PLANTS = ("drop", "amount", "fee", "duplicate", "value_date", "settle_failed", "unknown")


def _peak_rss_mb() -> float:
    # Linux reports kilobytes, macOS bytes.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def generate(
    n: int, *, seed: int = 7, plant_rate: float = 0.02, merge_share: float = 0.01
) -> tuple[list[GatewayRecord], list[StatementLine], Counter[str]]:
    """About n records and n lines (a merged payment is one line for many records, so
    records run slightly ahead). Every string is built separately on each side, as
    a parser would, so memory is not flattered by shared objects."""
    rnd = random.Random(seed)
    days = [AS_OF - timedelta(days=d) for d in range(7, 14)]
    records: list[GatewayRecord] = []
    lines: list[StatementLine] = []
    planted: Counter[str] = Counter()
    cents = Decimal("0.01")
    i = 0
    seq = 0

    def add_line(r: GatewayRecord, ref: str, amount: Decimal, **kw: object) -> None:
        nonlocal seq
        seq += 1
        fields: dict[str, object] = {
            "line_id": f"STMT-{r.channel}#{seq}",
            "statement_id": "STMT",
            "channel": r.channel,
            "amount": amount,
            "currency": "EUR",
            "value_date": r.value_date,
            "tx_id": "".join(ref),
            "end_to_end_id": None if r.merge_id else f"E2E{r.record_id[1:]}",
            "uetr": r.uetr.upper() if r.uetr else None,
            "counterparty": f"DE{int(r.counterparty[2:]):020d}" if r.counterparty else None,
        }
        fields.update(kw)
        fields["content_hash"] = content_hash(seq, amount, ref)
        lines.append(StatementLine(**fields))  # type: ignore[arg-type]

    while len(records) < n or len(lines) < n:
        channel = CHANNELS[i % len(CHANNELS)]
        day = days[i % len(days)]
        if rnd.random() < merge_share:
            k = rnd.randint(2, 8)
            mid = f"M{i:09d}"
            items = [
                GatewayRecord(
                    record_id=f"P{i + j:09d}",
                    channel=channel,
                    reference=f"TX{i + j:09d}",
                    amount=Decimal(rnd.randint(100, 50_000)) * cents,
                    currency="EUR",
                    status="settled",
                    value_date=day,
                    end_to_end_id=f"E2E{i + j:09d}",
                    merge_id=mid,
                    counterparty=f"DE{i:020d}",
                )
                for j in range(k)
            ]
            records.extend(items)
            total = sum((r.amount for r in items), Decimal(0))
            add_line(items[0], mid, total, end_to_end_id=None, batch_count=k)
            i += k
            continue
        plant = PLANTS[rnd.randrange(len(PLANTS))] if rnd.random() < plant_rate else None
        r = GatewayRecord(
            record_id=f"P{i:09d}",
            channel=channel,
            reference=f"TX{i:09d}",
            amount=Decimal(rnd.randint(100, 10_000_000)) * cents,
            currency="EUR",
            status="failed" if plant == "settle_failed" else "settled",
            value_date=day,
            end_to_end_id=f"E2E{i:09d}",
            uetr=f"{rnd.getrandbits(128):032x}" if channel == "swift" else None,
            counterparty=f"DE{i:020d}",
        )
        records.append(r)
        i += 1
        ref = f"TX{i - 1:09d}"
        if plant:
            planted[plant] += 1
        if plant == "drop":
            continue
        if plant == "unknown":
            # The rail shows something we never sent (and our payment too).
            add_line(r, ref, r.amount)
            add_line(
                r, f"XX{i:09d}", r.amount + 1, end_to_end_id=None, uetr=None,
                counterparty=f"GB{i:020d}",
            )  # fmt: skip
        elif plant == "amount":
            add_line(r, ref, r.amount * 2)
        elif plant == "fee":
            add_line(r, ref, r.amount - (r.amount / 200).quantize(cents) - cents)
        elif plant == "duplicate":
            add_line(r, ref, r.amount)
            add_line(r, ref, r.amount)
        elif plant == "value_date":
            add_line(r, ref, r.amount, value_date=r.value_date + timedelta(days=1))
        else:
            add_line(r, ref, r.amount)
    return records, lines, planted


EXPECTED_KIND = {
    "drop": "missing_in_statement",
    "amount": "amount_mismatch",
    "fee": "fee_deducted",
    "duplicate": "duplicate_in_statement",
    "value_date": "value_date_difference",
    "settle_failed": "status_mismatch",
    "unknown": "missing_in_gateway",
}


def run(n: int = 1_000_000, *, seed: int = 7) -> dict[str, object]:
    t0 = time.perf_counter()
    records, lines, planted = generate(n, seed=seed)
    t1 = time.perf_counter()
    rss_after_generation = _peak_rss_mb()
    tol = Tolerances(fee_pct=Decimal("0.01"))
    # The matcher allocates and frees many small objects; a collection pass over
    # millions of tracked records would only add pauses, nothing here is cyclic.
    gc.disable()
    try:
        t2, c2 = time.perf_counter(), time.process_time()
        result = match(records, lines, tolerances=tol, as_of=AS_OF)
        t3, c3 = time.perf_counter(), time.process_time()
    finally:
        gc.enable()
    found = Counter(b.kind.value for b in result.breaks)
    expected = Counter({EXPECTED_KIND[p]: c for p, c in planted.items()})
    return {
        "records": len(records),
        "lines": len(lines),
        "generate_s": round(t1 - t0, 2),
        "match_s": round(t3 - t2, 2),
        "match_cpu_s": round(c3 - c2, 2),  # unaffected by other processes on the host
        "lines_per_s": round(len(lines) / (t3 - t2)),
        "peak_rss_mb_after_generation": round(rss_after_generation),
        "peak_rss_mb": round(_peak_rss_mb()),
        "matched_lines": result.counters["matched_lines"],
        "matched_1_n": result.counters["matched_1_n"],
        "planted": dict(expected),
        "found": dict(found),
        "all_planted_found": found == expected,
    }


def statement_of(n: int, *, seed: int = 7, tag: str = "B") -> Statement:
    """One day's statement of ``n`` entries: payments with TxId, EndToEndId and (one in
    four) a UETR, and a fee entry after every tenth payment."""
    rnd = random.Random(seed)
    cents = Decimal("0.01")
    entries: list[StatementEntry] = []
    for i in range(n):
        ref = f"{tag}{i:09d}"
        fee = i % 11 == 10
        entries.append(
            StatementEntry(
                amount=Decimal(rnd.randint(100, 10_000_000)) * cents if not fee else Decimal(2),
                currency="EUR",
                credit_debit="DBIT",
                booking_date=AS_OF,
                value_date=AS_OF,
                entry_ref=ref,
                account_servicer_ref=f"S{ref}",
                end_to_end_ids=() if fee else (f"E{ref}",),
                tx_ids=(ref,),
                uetrs=(f"{rnd.getrandbits(128):032x}",) if i % 4 == 0 and not fee else (),
                transaction_code="CHRG" if fee else "DMCT",
                details=f"FEE FOR {ref}" if fee else f"/EREF/E{ref} /TXID/{ref}",
            )
        )
    total = sum((e.amount for e in entries), Decimal(0))
    opening = Decimal(10**12)
    return Statement(
        source="bench",
        statement_id=f"BENCH-{tag}",
        account="DE89370400440532013000",
        currency="EUR",
        sequence=1,
        opening_balance=Balance(opening, "EUR", AS_OF, "CRDT", "OPBD"),
        closing_balance=Balance(opening - total, "EUR", AS_OF, "CRDT", "CLBD"),
        entries=entries,
    )


def statement_files(n: int, *, seed: int = 7) -> dict[str, bytes]:
    """The same kind of day as camt.053 (XML) and as MT940 (pages of 100 entries)."""
    created = datetime.combine(AS_OF, datetime.min.time(), tzinfo=UTC) + timedelta(hours=20)
    camt = build_camt053(
        [statement_of(n, seed=seed, tag="C")], msg_id="BENCH-C", created=created, validate=False
    )
    mt940 = "".join(
        build_mt940(
            statement_of(n, seed=seed, tag="M"),
            sender_bic="DEUTDEFFXXX",
            receiver_bic="PAYGDEFFXXX",
        )
    )
    return {"camt053": camt, "mt940": mt940.encode()}


async def import_rates(dsn: str, n: int = 10_000) -> dict[str, object]:
    """Lines per second, per format, for parsing a statement of ``n`` entries into lines
    and for storing those lines in PostgreSQL at ``dsn`` (migrated first; the inserts are
    rolled back)."""
    files = statement_files(n)
    out: dict[str, object] = {"entries": n}
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn)
        for fmt, data in files.items():
            channel = f"bench-{fmt}"
            t0 = time.perf_counter()
            pages = parse_statement(channel, data, as_of=AS_OF)
            t1 = time.perf_counter()
            lines = sum(len(p.lines) for p in pages)
            tx = conn.transaction()
            await tx.start()
            try:
                t2 = time.perf_counter()
                added = 0
                for page in pages:
                    imported = await repo.import_statement(
                        conn, page.head, page.lines, page.charges
                    )
                    added += imported.added
                t3 = time.perf_counter()
            finally:
                await tx.rollback()
            out[f"{fmt}_bytes"] = len(data)
            out[f"{fmt}_lines"] = lines
            out[f"{fmt}_parse_s"] = round(t1 - t0, 3)
            out[f"{fmt}_parse_lines_per_s"] = round(lines / (t1 - t0))
            out[f"{fmt}_store_s"] = round(t3 - t2, 3)
            out[f"{fmt}_store_lines_per_s"] = round(added / (t3 - t2))
            out[f"{fmt}_stored_lines"] = added
    finally:
        await conn.close()
    return out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] == "--import":
        if len(args) < 2:
            print("usage: python -m paygate.bench.recon_bench --import DSN [n]", file=sys.stderr)
            return 2
        figures = asyncio.run(import_rates(args[1], int(args[2]) if len(args) > 2 else 10_000))
    else:
        figures = run(int(args[0]) if args else 1_000_000)
    for key, value in figures.items():
        print(f"{key:30} {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
