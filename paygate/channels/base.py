"""What every channel adapter does: build a request, read a response. No I/O here.

An adapter turns a ``SubmissionRequest`` into an ``HttpCall`` and the rail's answer into a
``ChannelResult``. The shared ``Transport`` sends the call; this split keeps adapters pure and
lets one transport own timeouts, retries and error mapping for every rail.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Protocol, runtime_checkable

from paygate.domain import PaymentOrder
from paygate.errors import ChannelError


class Outcome(StrEnum):
    SETTLED = "settled"
    ACCEPTED = "accepted"  # taken, settlement pending (batch cycles, queued after cut-off)
    RECEIVED = "received"  # the rail has it but has not decided
    REJECTED = "rejected"  # definitive: safe to fail over
    NOT_FOUND = "not_found"  # the rail never received this reference: safe to resend


@dataclass(frozen=True)
class SubmissionRequest:
    """One payment (or one merged payment) to hand to a rail under ``reference``."""

    reference: str
    order: PaymentOrder
    now: dt.datetime
    items: int = 1


@dataclass(frozen=True)
class InquiryRequest:
    reference: str
    uetr: uuid.UUID | None
    end_to_end_id: str | None
    now: dt.datetime


@dataclass(frozen=True)
class HttpCall:
    method: str
    path: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ChannelResult:
    outcome: Outcome
    reason_code: str | None = None
    reason_text: str | None = None
    fee: Decimal | None = None
    channel_reference: str | None = None


class Adapter(Protocol):
    """A rail protocol. Implementations are pure and cheap to call."""

    @property
    def protocol(self) -> str: ...

    def submit_call(self, request: SubmissionRequest) -> HttpCall: ...

    def read_submit(
        self, status: int, body: bytes, request: SubmissionRequest
    ) -> ChannelResult: ...

    def inquiry_call(self, request: InquiryRequest) -> HttpCall: ...

    def read_inquiry(self, status: int, body: bytes, request: InquiryRequest) -> ChannelResult: ...


@runtime_checkable
class BundlingAdapter(Adapter, Protocol):
    """A rail protocol that can carry several payments in one message (ISO 20022 ``NbOfTxs``),
    each still booked and answered on its own reference. It saves the rail and the gateway
    one HTTP exchange per payment; a lost answer leaves every payment of it to inquiry."""

    @property
    def max_transactions_per_message(self) -> int: ...

    def bundle_call(self, msg_id: str, requests: Sequence[SubmissionRequest]) -> HttpCall: ...

    def read_bundle(
        self, status: int, body: bytes, requests: Sequence[SubmissionRequest]
    ) -> list[ChannelResult | ChannelError]: ...
