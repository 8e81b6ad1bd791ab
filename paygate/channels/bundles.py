"""Which payments of a dispatch batch share one message to their rail.

A rail that books each transaction of a message on its own may take several payments per
message (``BundlingAdapter``); every other rail gets one message per payment. Payments in one
message share its rail and its settlement date (``IntrBkSttlmDt`` is per message here).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TypeVar

from paygate.channels.base import Adapter, BundlingAdapter
from paygate.channels.registry import ChannelEndpoint

T = TypeVar("T")


def bundle_size(adapter: Adapter) -> int:
    """How many payments one message to this rail may carry (1: no bundling)."""
    if isinstance(adapter, BundlingAdapter):
        return max(1, adapter.max_transactions_per_message)
    return 1


def group_for_messages(
    items: Sequence[T],
    endpoint_of: Callable[[T], ChannelEndpoint],
    date_of: Callable[[T], dt.date | None],
) -> list[list[T]]:
    """Items of one rail and one settlement date in groups of at most the rail's size, each
    other item alone; the input order is kept within a group and between groups' starts."""
    out: list[list[T]] = []
    open_groups: dict[tuple[str, dt.date | None], list[T]] = {}
    sizes: dict[str, int] = {}
    for item in items:
        endpoint = endpoint_of(item)
        size = sizes.get(endpoint.id)
        if size is None:
            size = sizes[endpoint.id] = bundle_size(endpoint.adapter)
        if size == 1:
            out.append([item])
            continue
        key = (endpoint.id, date_of(item))
        group = open_groups.get(key)
        if group is None or len(group) >= size:
            group = open_groups[key] = []
            out.append(group)
        group.append(item)
    return out
