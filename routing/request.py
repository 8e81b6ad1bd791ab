"""The slice of a payment order that routing looks at."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from routing.rules import Priority


class RouteRequest(BaseModel):
    """Built by the gateway from a payment order (or read from ORDER.json / a JSONL replay)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    payment_id: str = Field(min_length=1)
    amount: Decimal = Field(gt=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    debtor_country: str | None = None
    creditor_country: str | None = None
    debtor_agent_bic: str | None = None
    creditor_agent_bic: str | None = None
    creditor_account: str | None = None
    product: str | None = None
    client: str | None = None
    business_category: str | None = None
    priority: Priority = Priority.NORMAL
    deadline: dt.datetime | None = Field(default=None, description="Latest settlement time.")
    channel: str | None = Field(default=None, description="Straight-through channel, if any.")
    merged: bool = Field(default=False, description="An aggregate of merged small payments.")
    lei_present: bool = False
    routed_at: dt.datetime | None = Field(
        default=None, description="When it was routed; the `now` of a what-if replay."
    )

    @property
    def cross_border(self) -> bool:
        return (
            self.debtor_country is not None
            and self.creditor_country is not None
            and self.debtor_country != self.creditor_country
        )
