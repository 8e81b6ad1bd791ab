"""Canonical model: money, parties, the payment order and its state machine. Pure."""

from paygate.domain.money import CurrencyError, Money, check_amount, minor_units
from paygate.domain.parties import Account, Agent, Party, PostalAddress, check_bic, check_lei
from paygate.domain.payment import (
    ChargeBearer,
    PaymentOrder,
    Priority,
    Remittance,
    StructuredReference,
    check_reference,
    new_uetr,
)
from paygate.domain.states import FINAL, TERMINAL, PaymentStatus, can_transition, check_transition
from paygate.domain.validation import field_errors, json_pointer, parse_model

__all__ = [
    "FINAL",
    "TERMINAL",
    "Account",
    "Agent",
    "ChargeBearer",
    "CurrencyError",
    "Money",
    "Party",
    "PaymentOrder",
    "PaymentStatus",
    "PostalAddress",
    "Priority",
    "Remittance",
    "StructuredReference",
    "can_transition",
    "check_amount",
    "check_bic",
    "check_lei",
    "check_reference",
    "check_transition",
    "field_errors",
    "json_pointer",
    "minor_units",
    "new_uetr",
    "parse_model",
]
