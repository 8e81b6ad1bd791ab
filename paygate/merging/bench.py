"""Micro-benchmark of the pure planner: ``run(n)`` plans ``n`` pending items.

Target: planning 100k items well under 1 s, so that plan + commit stays within 5 s.
Run with ``python -m paygate.merging.bench [n]``.
"""

from __future__ import annotations

import random
import sys
import time
from datetime import UTC, datetime, timedelta
from datetime import time as dt_time
from decimal import Decimal

from paygate.merging.planner import MergeCandidate, plan_merges
from paygate.merging.rules import MergeConfig, MergeMatch, MergeRule, MergeWindow

# A fixed instant, not the clock: the workload is the same on every run.
_NOW = datetime(2024, 6, 3, 10, 5, 30, tzinfo=UTC)


def _config() -> MergeConfig:
    return MergeConfig(
        version="bench",
        rules=(
            MergeRule(
                id="loans",
                match=MergeMatch(products=frozenset({"loan"})),
                max_item_amount=Decimal("50000"),
                channels=("batch",),
                window=MergeWindow(every_minutes=10, timezone="Asia/Shanghai"),
                close_early_at_items=5000,
                close_early_at_amount=Decimal("5000000"),
            ),
            MergeRule(
                id="merchants",
                match=MergeMatch(business_categories=frozenset({"merchant"})),
                max_item_amount=Decimal("20000"),
                channels=("batch", "citybank"),
                window=MergeWindow(at=(dt_time(11, 30), dt_time(16, 0)), timezone="Asia/Shanghai"),
                close_early_at_amount=Decimal("1000000"),
            ),
            MergeRule(
                id="payroll",
                match=MergeMatch(products=frozenset({"payroll"})),
                max_item_amount=Decimal("10000"),
                channels=("batch",),
                window=MergeWindow(every_minutes=60, timezone="Europe/Berlin"),
                close_early_at_items=1000,
            ),
        ),
    )


def workload(n: int, seed: int = 7) -> list[MergeCandidate]:
    """``n`` small payments from 5 clients to 200 payees under 3 rules, a few with deadlines."""
    rnd = random.Random(seed)
    kinds = [("loan", None), (None, "merchant"), ("payroll", None)]
    items = []
    for index in range(n):
        product, category = kinds[index % 3]
        received = _NOW - timedelta(seconds=rnd.randrange(0, 3600))
        deadline = received + timedelta(minutes=rnd.randrange(5, 240)) if index % 50 == 0 else None
        items.append(
            MergeCandidate(
                payment_id=f"p{index:07d}",
                client=f"client-{rnd.randrange(5)}",
                product=product,
                business_category=category,
                creditor_account=f"ACC{rnd.randrange(200):05d}",
                creditor_name="payee",
                currency="CNY",
                amount=Decimal(rnd.randrange(100, 1_000_000)).scaleb(-2),
                received_at=received,
                deadline=deadline,
                rule_id=None if index % 10 == 0 else ("loans", "merchants", "payroll")[index % 3],
            )
        )
    return items


def run(n: int = 100_000) -> dict[str, float | int]:
    """Time ``plan_merges`` over ``n`` pending items; returns counts and seconds."""
    config = _config()
    items = workload(n)
    started = time.perf_counter()
    plan = plan_merges(items, config, _NOW)
    elapsed = time.perf_counter() - started
    return {
        "items": n,
        "merges": len(plan.merges),
        "merged_items": sum(len(m.items) for m in plan.merges),
        "waiting": len(plan.waiting),
        "individual": len(plan.individual),
        "plan_seconds": round(elapsed, 4),
        "items_per_second": round(n / elapsed) if elapsed > 0 else 0,
    }


if __name__ == "__main__":
    print(run(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000))
