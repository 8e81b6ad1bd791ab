"""The loss report every translation returns: what was truncated, replaced or not mapped."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ParamSpec, TypeVar

from paygate.errors import FieldError, MtSyntaxError

P = ParamSpec("P")
R = TypeVar("R")


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


def mt_input(fn: Callable[P, R]) -> Callable[P, R]:
    """Translations from MT text: a value the field rules let through but that is still
    impossible (a 13th month, a refused amount) becomes ``MtSyntaxError``, never a bare
    ``ValueError`` (pydantic's ``ValidationError`` is one)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except ValueError as exc:
            reason = " ".join(str(exc).split())[:200]
            raise MtSyntaxError(
                f"invalid MT content: {reason}", [FieldError("/", reason)]
            ) from None

    return wrapper
