"""Parties, accounts and agents of a credit transfer.

IBANs and BICs are validated with ``schwifty``; an LEI with its ISO 17442 check digits.
"""

from __future__ import annotations

import re
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException

_COUNTRY = re.compile(r"^[A-Z]{2}$")
_LEI = re.compile(r"^[A-Z0-9]{18}[0-9]{2}$")


def check_lei(value: str) -> str:
    """ISO 17442: 20 characters, the last two are ISO 7064 mod 97-10 check digits."""
    lei = value.strip().upper()
    if not _LEI.match(lei):
        raise ValueError("LEI must be 18 alphanumerics followed by 2 check digits")
    digits = "".join(str(int(c, 36)) for c in lei)
    if int(digits) % 97 != 1:
        raise ValueError("LEI check digits do not match")
    return lei


@lru_cache(maxsize=65536)
def check_bic(value: str) -> str:
    # Cached: schwifty's registry lookups dominate order validation, and the same BICs recur.
    try:
        return str(BIC(value.strip()).compact)
    except SchwiftyException as exc:
        raise ValueError(f"invalid BIC: {exc}") from None


@lru_cache(maxsize=65536)
def check_iban(value: str) -> str:
    try:
        return str(IBAN(value).compact)
    except SchwiftyException as exc:
        raise ValueError(f"invalid IBAN: {exc}") from None


def check_country(value: str) -> str:
    if not _COUNTRY.match(value):
        raise ValueError("country must be an ISO 3166 alpha-2 code")
    return value


class PostalAddress(BaseModel):
    """Structured fields, free address lines, or both (as pacs.008.001.08 allows)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    department: str | None = Field(default=None, max_length=70)
    street_name: str | None = Field(default=None, max_length=70)
    building_number: str | None = Field(default=None, max_length=16)
    post_code: str | None = Field(default=None, max_length=16)
    town_name: str | None = Field(default=None, max_length=35)
    country_sub_division: str | None = Field(default=None, max_length=35)
    country: str | None = None
    address_lines: list[str] = Field(default_factory=list, max_length=7)

    @field_validator("country")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        return None if value is None else check_country(value)

    @field_validator("address_lines")
    @classmethod
    def _lines(cls, lines: list[str]) -> list[str]:
        for line in lines:
            if not 1 <= len(line) <= 70:
                raise ValueError("each address line must be 1 to 70 characters")
        return lines

    @property
    def is_structured(self) -> bool:
        return self.town_name is not None and self.country is not None


class Party(BaseModel):
    """A debtor or creditor: a person or an organisation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=140)
    address: PostalAddress | None = None
    lei: str | None = None
    bic: str | None = Field(default=None, description="AnyBIC identifying an organisation.")
    other_id: str | None = Field(default=None, max_length=35)
    other_id_scheme: str | None = Field(default=None, max_length=35)
    country_of_residence: str | None = None

    @field_validator("lei")
    @classmethod
    def _lei(cls, value: str | None) -> str | None:
        return None if value is None else check_lei(value)

    @field_validator("bic")
    @classmethod
    def _bic(cls, value: str | None) -> str | None:
        return None if value is None else check_bic(value)

    @field_validator("country_of_residence")
    @classmethod
    def _residence(cls, value: str | None) -> str | None:
        return None if value is None else check_country(value)


class Account(BaseModel):
    """An IBAN, or another account id with the scheme that gives it meaning."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    iban: str | None = None
    other: str | None = Field(default=None, min_length=1, max_length=34)
    scheme: str | None = Field(default=None, max_length=35)
    currency: str | None = None

    @field_validator("iban")
    @classmethod
    def _iban(cls, value: str | None) -> str | None:
        return None if value is None else check_iban(value)

    @model_validator(mode="after")
    def _one_id(self) -> Account:
        if (self.iban is None) == (self.other is None):
            raise ValueError("give exactly one of iban or other")
        return self

    @property
    def identifier(self) -> str:
        return self.iban or self.other or ""

    @property
    def country(self) -> str | None:
        return self.iban[:2] if self.iban else None


class Agent(BaseModel):
    """A financial institution: a BIC, or a member id in a clearing system."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bic: str | None = None
    clearing_system: str | None = Field(
        default=None, max_length=5, description="ISO external clearing system code, e.g. CNAPS"
    )
    member_id: str | None = Field(default=None, max_length=35)
    name: str | None = Field(default=None, max_length=140)
    address: PostalAddress | None = None
    lei: str | None = None

    @field_validator("bic")
    @classmethod
    def _bic(cls, value: str | None) -> str | None:
        return None if value is None else check_bic(value)

    @field_validator("lei")
    @classmethod
    def _lei(cls, value: str | None) -> str | None:
        return None if value is None else check_lei(value)

    @model_validator(mode="after")
    def _identified(self) -> Agent:
        if self.bic is None and self.member_id is None and self.name is None:
            raise ValueError("an agent needs a bic, a member_id or a name")
        return self

    @property
    def country(self) -> str | None:
        if self.bic:
            return self.bic[4:6]
        return self.address.country if self.address else None
