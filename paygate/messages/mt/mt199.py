"""MT199 free format, as gpi status confirmations use it: UETR in block 3, status in 79."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from paygate.errors import FieldError, MtSyntaxError, UnsupportedMessage
from paygate.messages.mt.blocks import MtMessage, parse_mt_file
from paygate.messages.mt.rules import validate_mt

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


@dataclass(frozen=True)
class Mt199:
    """A free-format MT199: its references and the narrative of field 79, as written."""

    reference: str
    related_reference: str | None
    narrative: str
    uetr: str | None
    sender_bic: str | None
    receiver_bic: str | None


def read_mt199(message: MtMessage, *, strict: bool = True) -> Mt199:
    """Read a free-format MT199; ``strict`` first applies every MT rule.

    Lenient reading keeps a field 79 longer than its 35 lines of 50 characters whole;
    ``validate_mt`` still reports it, with its line number."""
    if message.mt_type not in ("199", None):
        raise UnsupportedMessage(f"expected MT199, got MT{message.mt_type}")
    message.mt_hint = message.mt_hint or "199"
    if strict:
        validate_mt(message)
    f20, f79 = message.get("20"), message.get("79")
    if f20 is None or f79 is None:
        raise MtSyntaxError(
            "MT199 needs :20: and :79:",
            [FieldError(f"line {message.first_line}", "missing :20: or :79:")],
        )
    f21 = message.get("21")
    return Mt199(
        reference=f20.value,
        related_reference=f21.value if f21 else None,
        narrative=f79.value,
        uetr=message.user_header.get("121"),
        sender_bic=message.sender_bic,
        receiver_bic=message.receiver_bic,
    )
