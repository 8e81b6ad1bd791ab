"""Time-ordered ids (UUIDv7): index-friendly, sortable, and partitionable by hash."""

from __future__ import annotations

import uuid

import uuid6


def new_id() -> uuid.UUID:
    return uuid.UUID(bytes=uuid6.uuid7().bytes)
