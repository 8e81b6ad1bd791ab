"""Routing rules as the operator writes them under `rules:` (evaluated top to bottom).

Kinds and what they do when their `when` matches a payment:

- `designated`: use `channel`, else the first eligible of `fallbacks` (in that order).
- `whitelist`: payments to the listed creditor accounts / BICs / countries use `channel`;
  with `exclusive: true` no other payment may use it.
- `product`: payments of `product` are scored among `channels` only.
- `exclusion`: `channels` are removed for matching payments, wherever the rule stands.
- `condition`: conditions in `when` (amount, currency, country, priority…) choose `channels`,
  scored (`order: score`) or as a priority chain (`order: listed`).
- `split`: percentage shares, sticky per payment id (hash), e.g. 70/30 between two rails.
- `default`: score `channels` (all rails if omitted); matches every payment, so it is last.

A rule whose channels are all ineligible passes the payment to the next rule unless
`fallthrough: false`, in which case the payment is left unrouted with the reason.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from routing.channels import Country, Currency

OneOrMany = str | list[str]


class Priority(StrEnum):
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class When(BaseModel):
    """Conditions that must all hold; each list field means "any of these values"."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    product: OneOrMany | None = None
    client: OneOrMany | None = None
    business_category: OneOrMany | None = None
    currency: OneOrMany | None = None
    debtor_country: OneOrMany | None = None
    creditor_country: OneOrMany | None = None
    creditor_agent_bic: OneOrMany | None = None
    creditor_account: OneOrMany | None = None
    priority: Priority | list[Priority] | None = None
    min_amount: Decimal | None = Field(default=None, ge=0, description="Inclusive.")
    max_amount: Decimal | None = Field(default=None, ge=0, description="Inclusive.")
    cross_border: bool | None = None
    merged: bool | None = None

    @model_validator(mode="after")
    def _range(self) -> When:
        if (
            self.min_amount is not None
            and self.max_amount is not None
            and self.max_amount < self.min_amount
        ):
            raise ValueError(f"max_amount {self.max_amount} is below min_amount {self.min_amount}")
        return self


class _Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, max_length=64)
    description: str | None = None
    when: When = Field(default_factory=When)
    fallthrough: bool = Field(
        default=True, description="If none of the rule's channels is eligible, try the next rule."
    )


class DesignatedRule(_Rule):
    kind: Literal["designated"]
    channel: str
    fallbacks: list[str] = Field(default_factory=list)


class WhitelistRule(_Rule):
    kind: Literal["whitelist"]
    channel: str
    creditor_accounts: list[str] = Field(default_factory=list)
    creditor_agent_bics: list[str] = Field(default_factory=list)
    creditor_countries: list[Country] = Field(default_factory=list)
    exclusive: bool = Field(default=False, description="Only whitelisted payees may use it.")

    @model_validator(mode="after")
    def _non_empty(self) -> WhitelistRule:
        if not (self.creditor_accounts or self.creditor_agent_bics or self.creditor_countries):
            raise ValueError(
                "a whitelist needs creditor_accounts, creditor_agent_bics or creditor_countries"
            )
        return self


class ProductRule(_Rule):
    kind: Literal["product"]
    product: OneOrMany
    channels: list[str] = Field(min_length=1)


class ExclusionRule(_Rule):
    kind: Literal["exclusion"]
    channels: list[str] = Field(min_length=1)


class ConditionRule(_Rule):
    kind: Literal["condition"]
    channels: list[str] = Field(min_length=1)
    order: Literal["score", "listed"] = "score"


class SplitShare(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    channel: str
    percent: Annotated[Decimal, Field(gt=0, le=100)]


class SplitRule(_Rule):
    kind: Literal["split"]
    shares: list[SplitShare] = Field(min_length=2)


class DefaultRule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(default="default", min_length=1, max_length=64)
    kind: Literal["default"]
    description: str | None = None
    channels: list[str] | None = Field(default=None, description="All rails if omitted.")


Rule = Annotated[
    DesignatedRule
    | WhitelistRule
    | ProductRule
    | ExclusionRule
    | ConditionRule
    | SplitRule
    | DefaultRule,
    Field(discriminator="kind"),
]

TERMINAL_KINDS = frozenset({"designated", "whitelist", "product", "condition", "split", "default"})


def rule_channels(rule: BaseModel) -> list[str]:
    """Every channel id a rule names, in the order it names them."""
    if isinstance(rule, DesignatedRule):
        return [rule.channel, *rule.fallbacks]
    if isinstance(rule, WhitelistRule):
        return [rule.channel]
    if isinstance(rule, SplitRule):
        return [share.channel for share in rule.shares]
    if isinstance(rule, ProductRule | ExclusionRule | ConditionRule):
        return list(rule.channels)
    if isinstance(rule, DefaultRule):
        return list(rule.channels or [])
    return []


__all__ = [
    "TERMINAL_KINDS",
    "ConditionRule",
    "Currency",
    "DefaultRule",
    "DesignatedRule",
    "ExclusionRule",
    "Priority",
    "ProductRule",
    "Rule",
    "SplitRule",
    "SplitShare",
    "When",
    "WhitelistRule",
    "rule_channels",
]
