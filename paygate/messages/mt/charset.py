"""SWIFT character set X: transliterate what can be, replace the rest, and say so."""

from __future__ import annotations

import re
import unicodedata

from paygate.messages.loss import LossCode, LossReport

_NOT_X = re.compile(r"[^A-Za-z0-9/\-?:().,'+ ]")
_SPECIAL = {"ß": "ss", "Æ": "AE", "æ": "ae", "Ø": "O", "ø": "o", "&": "+", "_": "-", "@": "(AT)"}


def to_x(text: str, path: str, report: LossReport) -> str:
    if not _NOT_X.search(text):
        return text
    out = []
    for ch in text:
        if not _NOT_X.match(ch):
            out.append(ch)
            continue
        mapped = _SPECIAL.get(ch)
        if mapped is None:
            decomposed = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
            mapped = decomposed if decomposed and not _NOT_X.search(decomposed) else "."
        out.append(mapped)
    result = "".join(out)
    report.add(LossCode.CHARACTER_REPLACED, path, text, result)
    return result


def wrap(text: str, width: int = 35) -> list[str]:
    return [text[i : i + width] for i in range(0, len(text), width)] or [""]


def reference16(value: str, path: str, report: LossReport) -> str:
    """16x fields: longer references become 15 characters + '+', reported."""
    value = to_x(value, path, report)
    if len(value) <= 16:
        return value
    result = value[:15] + "+"
    report.add(LossCode.TRUNCATED, path, value, result)
    return result
