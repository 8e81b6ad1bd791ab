"""Money: a ``Decimal`` amount that always travels with its ISO 4217 currency.

Minor units come from the ``iso4217`` package (EUR 2, JPY 0, BHD 3). Commodity and
special codes without minor units (XAU, XDR, ...) are not payable currencies.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from iso4217 import Currency
from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

# pacs.008 ActiveCurrencyAndAmount allows 18 digits, 5 fraction digits; MT 32A allows 15 chars.
MAX_TOTAL_DIGITS = 18


class CurrencyError(ValueError):
    pass


@lru_cache(maxsize=512)
def minor_units(currency: str) -> int:
    """Decimal places of ``currency``; raises ``CurrencyError`` if it is not payable."""
    try:
        exponent = Currency(currency).exponent
    except ValueError:
        raise CurrencyError(f"unknown ISO 4217 currency {currency!r}") from None
    if exponent is None:
        raise CurrencyError(f"{currency} has no minor unit and is not a payable currency")
    return int(exponent)


def check_amount(value: Decimal, currency: str) -> Decimal:
    """Validate ``value`` for ``currency`` and return it scaled to the minor units."""
    if not value.is_finite():
        raise ValueError("amount must be a finite number")
    if value <= 0:
        raise ValueError("amount must be greater than zero")
    places = minor_units(currency)
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        raise ValueError(f"{currency} allows at most {places} decimal places")
    scaled = value.quantize(Decimal(1).scaleb(-places))
    if len(scaled.as_tuple().digits) > MAX_TOTAL_DIGITS:
        raise ValueError(f"amount exceeds {MAX_TOTAL_DIGITS} digits")
    return scaled


class Money(BaseModel):
    """An amount in a currency. JSON: ``{"value": "12.50", "currency": "EUR"}``."""

    model_config = ConfigDict(frozen=True)

    # currency is declared first so that the amount check can see it.
    currency: str
    value: Decimal

    @field_validator("value", mode="before")
    @classmethod
    def _no_float_surprises(cls, raw: Any) -> Any:
        # A JSON number arrives as float when it does not fit (1e309 -> inf); refuse it
        # explicitly rather than letting it round silently.
        if isinstance(raw, float):
            return Decimal(repr(raw))
        if isinstance(raw, str):
            try:
                return Decimal(raw.strip())
            except InvalidOperation:
                raise ValueError("amount is not a decimal number") from None
        return raw

    @field_validator("currency")
    @classmethod
    def _currency(cls, code: str) -> str:
        if len(code) != 3 or not code.isalpha() or not code.isupper():
            raise ValueError("currency must be a 3-letter upper-case ISO 4217 code")
        minor_units(code)
        return code

    @field_validator("value")
    @classmethod
    def _scaled(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        currency = info.data.get("currency")
        if currency is None:
            if not value.is_finite() or value <= 0:
                raise ValueError("amount must be a finite number greater than zero")
            return value
        return check_amount(value, currency)

    def __str__(self) -> str:
        return f"{self.value} {self.currency}"
