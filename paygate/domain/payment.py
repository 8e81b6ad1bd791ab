"""The canonical payment order: what every intake format is normalized into."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from paygate.domain.money import Money
from paygate.domain.parties import Account, Agent, Party, check_country

# ISO 20022 Max35Text restricted to what SWIFT and most clearing systems carry safely.
_REFERENCE = re.compile(r"^[A-Za-z0-9/\-?:().,'+ ]{1,35}$")
_PURPOSE = re.compile(r"^[A-Z0-9]{4}$")

MetadataValue = str | int | float | bool | None


class ChargeBearer(StrEnum):
    DEBT = "DEBT"
    CRED = "CRED"
    SHAR = "SHAR"
    SLEV = "SLEV"


class Priority(StrEnum):
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


def check_reference(value: str) -> str:
    if not _REFERENCE.match(value) or value.startswith("/") or "//" in value:
        raise ValueError(
            "reference must be 1-35 characters of A-Z a-z 0-9 / - ? : ( ) . , ' + space, "
            "not starting with '/' nor containing '//'"
        )
    return value


def new_uetr() -> uuid.UUID:
    return uuid.uuid4()


class StructuredReference(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    reference: str = Field(min_length=1, max_length=35)
    type: str | None = Field(default=None, max_length=35, description="e.g. SCOR, RADM")
    issuer: str | None = Field(default=None, max_length=35)


class Remittance(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    unstructured: str | None = Field(default=None, min_length=1, max_length=140)
    structured: list[StructuredReference] = Field(default_factory=list, max_length=10)


class PaymentOrder(BaseModel):
    """A customer credit transfer as upstream systems submit it (one transaction)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    amount: Money
    debtor: Party
    debtor_account: Account
    debtor_agent: Agent | None = None
    creditor: Party
    creditor_account: Account
    creditor_agent: Agent | None = None
    intermediary_agents: list[Agent] = Field(default_factory=list, max_length=3)
    end_to_end_id: str = Field(default="NOTPROVIDED")
    instruction_id: str | None = None
    uetr: uuid.UUID = Field(default_factory=new_uetr)
    remittance: Remittance | None = None
    purpose: str | None = Field(default=None, description="ISO external purpose code")
    charge_bearer: ChargeBearer = ChargeBearer.SHAR
    requested_execution_date: dt.date | None = None
    priority: Priority = Priority.NORMAL
    deadline: dt.datetime | None = Field(
        default=None, description="Latest acceptable settlement time (timezone-aware)."
    )
    product: str | None = Field(default=None, max_length=35)
    business_category: str | None = Field(default=None, max_length=35)
    client_reference: str | None = Field(default=None, max_length=35)
    channel: str | None = Field(
        default=None, max_length=35, description="Straight-through channel, honoured if eligible."
    )
    debtor_country: Annotated[str | None, Field(default=None)] = None
    creditor_country: Annotated[str | None, Field(default=None)] = None
    metadata: dict[str, MetadataValue] = Field(default_factory=dict, max_length=50)

    @field_validator("end_to_end_id", "instruction_id")
    @classmethod
    def _reference(cls, value: str | None) -> str | None:
        return None if value is None else check_reference(value)

    @field_validator("uetr")
    @classmethod
    def _uetr_v4(cls, value: uuid.UUID) -> uuid.UUID:
        if value.version != 4:
            raise ValueError("UETR must be a UUID version 4")
        return value

    @field_validator("purpose")
    @classmethod
    def _purpose(cls, value: str | None) -> str | None:
        if value is not None and not _PURPOSE.match(value):
            raise ValueError("purpose must be a 4-character ISO external purpose code")
        return value

    @field_validator("debtor_country", "creditor_country")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        return None if value is None else check_country(value)

    @field_validator("deadline")
    @classmethod
    def _aware(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("deadline must carry a timezone offset")
        return value

    @property
    def resolved_debtor_country(self) -> str | None:
        return (
            self.debtor_country
            or self.debtor_account.country
            or (self.debtor_agent.country if self.debtor_agent else None)
        )

    @property
    def resolved_creditor_country(self) -> str | None:
        return (
            self.creditor_country
            or self.creditor_account.country
            or (self.creditor_agent.country if self.creditor_agent else None)
        )
