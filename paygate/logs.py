"""Structured logging: JSON in production, readable in development, never a full account
number or a name. Request id and payment id / UETR are bound through contextvars."""

from __future__ import annotations

import logging
import re
from collections.abc import MutableMapping
from typing import Any

import structlog

# Keys whose values are personal data: names and account identifiers.
_SENSITIVE_KEYS = frozenset(
    {
        "name",
        "debtor_name",
        "creditor_name",
        "iban",
        "account",
        "debtor_account",
        "creditor_account",
        "other",
        "address",
        "creditor",
        "debtor",
    }
)
# An IBAN-like or long digit run anywhere in a message.
_ACCOUNTISH = re.compile(r"\b[A-Z]{2}\d{2}[A-Z0-9]{10,30}\b|\b\d{9,}\b")


def mask_value(value: str) -> str:
    if len(value) <= 4:
        return "****"
    return "*" * (len(value) - 4) + value[-4:]


def _mask(value: Any) -> Any:
    if isinstance(value, str):
        return mask_value(value)
    if isinstance(value, dict):
        return {k: _mask(v) for k, v in value.items()}
    return "****"


def mask_sensitive(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key, value in list(event_dict.items()):
        if key in _SENSITIVE_KEYS:
            event_dict[key] = _mask(value)
        elif isinstance(value, str):
            event_dict[key] = _ACCOUNTISH.sub(lambda m: mask_value(m.group(0)), value)
    return event_dict


def configure(log_format: str = "console", level: str = "info") -> None:
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            mask_sensitive,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            getattr(logging, level.upper(), logging.INFO)
        ),
        cache_logger_on_first_use=True,
    )


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
