"""Guess a message's type from its bytes: ISO 20022 by namespace, MT by block 2."""

from __future__ import annotations

from paygate.errors import UnsupportedMessage
from paygate.messages.mt.blocks import parse_mt_file
from paygate.messages.xsd import read_iso


def detect_type(data: bytes) -> str:
    """``pacs.008``, ``camt.053``, ... or ``MT103``, ``MT940``, ..."""
    head = data.lstrip()[:1]
    if head == b"<":
        return read_iso(data).kind
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise UnsupportedMessage("neither XML nor UTF-8 SWIFT MT text") from None
    mt = parse_mt_file(text)[0].mt_type
    if mt is None:
        raise UnsupportedMessage("MT text without a message type (no block 2)")
    return "MT" + mt
