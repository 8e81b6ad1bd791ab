"""Closing a merge links its items without rewriting their rows; the move to ``submitted``
follows. Between the two (or after a crash there) an item is already out of reach: never
planned again, cancel answers 409, and a restart finishes the move and pays it once."""

from __future__ import annotations

from pathlib import Path

import pytest

from paygate.api.merges import MERGE_WORKER
from paygate.channels.registry import endpoints_for_urls
from paygate.errors import StateError
from paygate.store import merges as store
from simulators import RailsHandle
from tests.integration.gateway.harness import running_gateway
from tests.integration.merging.test_merging_gateway import (
    all_in,
    check_merges_consistent,
    insert_many,
    ledger,
    merge_settings,
    rails,
    small_order,
    until,
)

__all__ = ["rails"]  # the fixture, shared with the gateway tests


async def test_closed_but_not_moved_items_are_in_their_merge_and_survive_a_crash(
    fresh_dsn: str, tmp_path: Path, rails: RailsHandle
) -> None:
    urls = {r: rails.base_url(r) for r in rails.rail_ids}
    settings = merge_settings(fresh_dsn, tmp_path)
    async with running_gateway(
        settings, endpoints=endpoints_for_urls(urls), run_workers=False
    ) as gw:
        ids = await insert_many(gw, [small_order(i, i % 4, "15.00", "payroll") for i in range(40)])
        await gw.dispatcher.run_until_idle()
        assert await all_in(gw.pool, ids, "pending_merge")
        worker = gw.app[MERGE_WORKER]

        async def closed() -> bool:
            await worker.close_due()  # the close only: the items are not moved
            return await gw.pool.fetchval("SELECT count(*) FROM merge_items") == len(ids)

        await until(closed, "the window closed")
        assert await all_in(gw.pool, ids, "pending_merge")
        assert await gw.pool.fetchval("SELECT count(*) FROM merges WHERE NOT items_moved") == 4
        # Linked items are never selected again, and cancel refuses them.
        assert await worker.close_due() == 0
        async with gw.pool.acquire() as conn:
            client = await conn.fetchval("SELECT client_id FROM payments WHERE id = $1", ids[0])
            with pytest.raises(StateError, match="already in merge"):
                async with conn.transaction():
                    await store.cancel_pending(conn, ids[0], client)
        # The process "dies" here: merges committed, items not moved, aggregates not sent.
    assert await ledger(rails, "batch") == []
    async with running_gateway(settings, endpoints=endpoints_for_urls(urls)) as gw:
        await until(lambda: all_in(gw.pool, ids, "settled"), "every item settled after restart")
        await check_merges_consistent(gw.pool, ids, rails)
        assert await gw.pool.fetchval("SELECT count(*) FROM merges") == 4
        assert await gw.pool.fetchval("SELECT count(*) FROM merges WHERE NOT items_moved") == 0
        # Each item has one "in merge" event and one settlement, in that order.
        rows = await gw.pool.fetch(
            """SELECT payment_id, array_agg(to_status ORDER BY id) AS path
               FROM payment_events WHERE payment_id = ANY($1::uuid[])
                 AND to_status IN ('submitted', 'settled') GROUP BY 1""",
            ids,
        )
        assert len(rows) == len(ids)
        assert all(list(r["path"]) == ["submitted", "settled"] for r in rows)
