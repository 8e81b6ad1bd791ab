"""YAML to plain data while remembering the line of every node, so a validation error
can say `file:line`. Also avoids two YAML 1.1 traps in configs: `17:00` read as the
sexagesimal integer 1020, and `NO` (Norway) read as false; amounts become Decimal, not float.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import yaml

from routing.issues import ConfigIssue

PathKey = tuple[str | int, ...]

_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"


def path_text(path: PathKey) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _scalar(node: yaml.ScalarNode) -> Any:
    value = node.value
    tag = node.tag
    if node.style is not None:  # quoted: always a string
        return value
    if tag == _NULL:
        return None
    if tag == _BOOL:
        lowered = value.lower()
        return {"true": True, "false": False}.get(lowered, value)
    if tag in (_INT, _FLOAT) and ":" not in value:
        try:
            number = Decimal(value.replace("_", ""))
        except InvalidOperation:
            return value
        if tag == _INT and number == number.to_integral_value():
            return int(number)
        return number
    return value


class _Converter:
    def __init__(self) -> None:
        self.lines: dict[PathKey, int] = {}
        self.issues: list[ConfigIssue] = []

    def convert(self, node: yaml.Node, path: PathKey) -> Any:
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = str(key_node.value)
                child = (*path, key)
                if key in out:
                    self.issues.append(
                        ConfigIssue(key_node.start_mark.line + 1, path_text(child), "duplicate key")
                    )
                self.lines[child] = key_node.start_mark.line + 1
                out[key] = self.convert(value_node, child)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, (*path, i)) for i, item in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)
        return _scalar(node)


def parse(text: str) -> tuple[Any, dict[PathKey, int], list[ConfigIssue]]:
    """Data, line of each path (1-based), and syntax issues (data is None if unreadable)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = None if mark is None else mark.line + 1
        problem = getattr(exc, "problem", None) or str(exc)
        return None, {}, [ConfigIssue(line, "", f"YAML syntax: {problem}")]
    if node is None:
        return None, {}, [ConfigIssue(1, "", "empty document")]
    converter = _Converter()
    data = converter.convert(node, ())
    return data, converter.lines, converter.issues


def line_of(lines: dict[PathKey, int], path: PathKey) -> int | None:
    """Line of the deepest existing prefix of `path` (a missing key points at its parent)."""
    for end in range(len(path), -1, -1):
        line = lines.get(path[:end])
        if line is not None:
            return line
    return None
