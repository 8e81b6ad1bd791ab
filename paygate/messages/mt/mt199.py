"""MT199 free format, as gpi status confirmations use it: UETR in block 3, status in 79."""

from __future__ import annotations

import re
import uuid

from paygate.errors import FieldError, MtSyntaxError, UnsupportedMessage
from paygate.messages.mt.blocks import parse_mt_file

_STATUS = re.compile(r"//\d{10}[+-]\d{4}\n//([A-Z]{4})(?:/([A-Z0-9]{4}))?", re.M)
_REJT = re.compile(r"^/(REJT|RETN)/(\d{2}[A-Z]?)?/?([A-Z]{2}\d{2}|[A-Z0-9]{4})?", re.M)


def parse_mt199_status(text: str) -> tuple[uuid.UUID | None, str, str | None]:
    """(uetr, status, reason): gpi ``//ACCC``-style or ``/REJT/`` codeword form."""
    [message] = parse_mt_file(text)[:1]
    if message.mt_type != "199":
        raise UnsupportedMessage(f"expected MT199, got MT{message.mt_type}")
    f79 = message.get("79")
    if f79 is None:
        raise MtSyntaxError(
            "MT199 without :79:", [FieldError(f"line {message.first_line}", "no :79:")]
        )
    raw = message.user_header.get("121")
    try:
        uetr = uuid.UUID(raw) if raw else None
    except ValueError:
        raise MtSyntaxError("bad UETR in {121:}", [FieldError("line 1", "not a UUID")]) from None
    match = _STATUS.search(f79.value)
    if match:
        return uetr, match.group(1), match.group(2)
    rejt = _REJT.search(f79.value)
    if rejt:
        return uetr, "RJCT" if rejt.group(1) == "REJT" else "RETN", rejt.group(3)
    raise MtSyntaxError(
        "MT199 :79: carries no status", [FieldError(f"line {f79.line}", "no //STATUS or /REJT/")]
    )
