"""The loss report every translation returns: what was truncated, replaced or not mapped."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class LossCode(StrEnum):
    # In the spirit of SWIFT's translation result codes.
    TRUNCATED = "TRUNCATED"
    NOT_MAPPED = "NOT_MAPPED"
    CHARACTER_REPLACED = "CHARACTER_REPLACED"
    DEFAULTED = "DEFAULTED"
    STOP = "STOP"


@dataclass(frozen=True)
class Loss:
    code: LossCode
    path: str
    original: str
    result: str


@dataclass
class LossReport:
    entries: list[Loss] = field(default_factory=list)

    def add(self, code: LossCode, path: str, original: str, result: str = "") -> None:
        self.entries.append(Loss(code, path, original, result))

    def __bool__(self) -> bool:
        return bool(self.entries)

    def lines(self) -> list[str]:
        return [f"{e.code}\t{e.path}\t{e.original!r} -> {e.result!r}" for e in self.entries]
