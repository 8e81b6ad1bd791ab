"""Reading a configuration from YAML: syntax, schema, then semantic checks, with file:line."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from routing.checks import semantic_issues
from routing.config import RoutingConfig
from routing.issues import ConfigIssue, ConfigLoadError
from routing.yaml_lines import PathKey, line_of, parse, path_text


def _data_path(data: Any, loc: tuple[str | int, ...]) -> PathKey:
    """Map a pydantic error location onto the YAML data, dropping union tags it inserts."""
    path: list[str | int] = []
    node = data
    for part in loc:
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_dict or in_list:
            node = node[part]
            path.append(part)
        elif isinstance(node, dict) and isinstance(part, str) and node.get("kind") == part:
            continue  # discriminated-union tag, e.g. ("rules", 2, "designated", "channel")
        else:
            path.append(part)
            node = None
    return tuple(path)


def _schema_issues(exc: ValidationError, data: Any, lines: dict[PathKey, int]) -> list[ConfigIssue]:
    issues = []
    for err in exc.errors(include_url=False):
        path = _data_path(data, tuple(err["loc"]))
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown field"
        issues.append(ConfigIssue(line_of(lines, path), path_text(path), message))
    return issues


def analyse(text: str) -> tuple[RoutingConfig | None, list[ConfigIssue]]:
    """The configuration (None if it could not be built) and every issue found."""
    data, lines, issues = parse(text)
    if data is None:
        return None, issues
    if not isinstance(data, dict):
        return None, [*issues, ConfigIssue(1, "", "the document must be a mapping")]
    try:
        config = RoutingConfig.model_validate(data)
    except ValidationError as exc:
        return None, issues + _schema_issues(exc, data, lines)
    issues += semantic_issues(config, lambda path: line_of(lines, path))
    issues.sort(key=lambda i: (i.line is None, i.line or 0))
    return config, issues


def load_config_text(text: str, source: str = "<text>") -> RoutingConfig:
    """Parse and validate; raise ConfigLoadError listing every error (warnings are allowed)."""
    config, issues = analyse(text)
    errors = [i for i in issues if i.severity == "error"]
    if config is None or errors:
        raise ConfigLoadError(source, errors or issues)
    return config


def load_config(path: str | os.PathLike[str]) -> RoutingConfig:
    file = Path(path)
    return load_config_text(file.read_text(encoding="utf-8"), source=str(file))


def check_config(path_or_text: str | os.PathLike[str]) -> list[ConfigIssue]:
    """Every issue in a configuration file (a Path, or a str naming an existing file) or text."""
    if isinstance(path_or_text, os.PathLike) or (
        "\n" not in path_or_text and os.path.isfile(path_or_text)
    ):
        text = Path(path_or_text).read_text(encoding="utf-8")
    else:
        text = path_or_text
    return analyse(text)[1]
