"""Idempotent statement import, as a pure value: the rule the PostgreSQL unique
constraint (line id) and content hash enforce, testable without a database.

Importing the same statement twice adds nothing; a line re-sent under the same id with
different content is a conflict for an operator, never a silent overwrite.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from paygate.recon.records import StatementLine


@dataclass(slots=True)
class ImportOutcome:
    added: int = 0
    unchanged: int = 0
    conflicts: list[str] = field(default_factory=list)  # line ids whose content changed


class StatementBook:
    def __init__(self) -> None:
        self._lines: dict[str, StatementLine] = {}

    def add(self, lines: Iterable[StatementLine]) -> ImportOutcome:
        outcome = ImportOutcome()
        for line in lines:
            held = self._lines.get(line.line_id)
            if held is None:
                self._lines[line.line_id] = line
                outcome.added += 1
            elif held.content_hash == line.content_hash:
                outcome.unchanged += 1
            else:
                outcome.conflicts.append(line.line_id)
        return outcome

    def __len__(self) -> int:
        return len(self._lines)

    def __iter__(self) -> Iterator[StatementLine]:
        return iter(self._lines.values())
