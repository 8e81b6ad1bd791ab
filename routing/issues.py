"""Problems found in a configuration, each pointing at a line of its source."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class ConfigIssue:
    line: int | None
    path: str
    message: str
    severity: Severity = "error"

    def format(self, source: str) -> str:
        """`FILE:LINE: message` (the line is left out when unknown)."""
        where = source if self.line is None else f"{source}:{self.line}"
        what = f"{self.path}: {self.message}" if self.path else self.message
        tag = "" if self.severity == "error" else "warning: "
        return f"{where}: {tag}{what}"


class ConfigLoadError(ValueError):
    """A configuration that cannot be used; `issues` says where and why."""

    def __init__(self, source: str, issues: list[ConfigIssue]) -> None:
        self.source = source
        self.issues = issues
        lines = "\n".join(issue.format(source) for issue in issues)
        super().__init__(f"invalid routing configuration {source}:\n{lines}")
