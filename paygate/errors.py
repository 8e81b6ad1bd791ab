"""The error tree. Each layer raises its own type; the API maps them to RFC 9457 problems.

PaygateError
├── ValidationFailed          bad input; carries [FieldError(pointer, reason)]   → 422/400
├── MessageError              codecs (paygate.messages)
│   ├── UnsafeXml             DOCTYPE, entities, size or depth limits
│   ├── SchemaInvalid         XSD violations, each with a path
│   ├── MtSyntaxError         SWIFT MT block/field rules, each with a line
│   ├── UnsupportedMessage    unknown type or version
│   └── TranslationStopped    cannot translate without losing meaning
├── StoreError                persistence
│   ├── IdempotencyConflict   same key, different body                            → 409
│   └── NotFound              no such resource for this client                    → 404
├── StateError                an illegal payment state transition                 → 409
├── ChannelError              transport and protocol failures talking to a rail
│   ├── ChannelUnavailable    connection refused / 5xx before the rail took it
│   ├── OutcomeUnknown        sent, but the answer was lost (timeout, reset)
│   └── ChannelProtocolError  the rail answered something we cannot read
├── RoutingFailed             no eligible channel                                 → 422
├── AuthError                 missing / wrong key (401) or scope (403)
└── ConfigError               operator configuration does not load
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One reason a field is wrong. ``pointer`` is an RFC 6901 JSON pointer into the input."""

    pointer: str
    reason: str


class PaygateError(Exception):
    """Root of every error paygate raises on purpose."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class ValidationFailed(PaygateError):
    def __init__(self, detail: str, errors: list[FieldError]) -> None:
        super().__init__(detail)
        self.errors = errors


class MessageError(PaygateError):
    """A message could not be read or written."""


class UnsafeXml(MessageError):
    pass


class SchemaInvalid(MessageError):
    def __init__(self, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.errors = errors or []


class MtSyntaxError(MessageError):
    def __init__(self, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.errors = errors or []


class UnsupportedMessage(MessageError):
    pass


class TranslationStopped(MessageError):
    pass


class StoreError(PaygateError):
    pass


class IdempotencyConflict(StoreError):
    pass


class NotFound(StoreError):
    pass


class StateError(PaygateError):
    pass


class ChannelError(PaygateError):
    pass


class ChannelUnavailable(ChannelError):
    pass


class OutcomeUnknown(ChannelError):
    pass


class ChannelProtocolError(ChannelError):
    pass


class RoutingFailed(PaygateError):
    pass


class AuthError(PaygateError):
    def __init__(self, detail: str, status: int = 401) -> None:
        super().__init__(detail)
        self.status = status


class ConfigError(PaygateError):
    pass
