from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from paygate.domain import Account, Agent, Money, Party, PaymentOrder, PostalAddress, Remittance


def make_order(**overrides: object) -> PaymentOrder:
    fields: dict[str, object] = {
        "amount": Money(currency="EUR", value=Decimal("1234.50")),
        "debtor": Party(
            name="Alpha Trading GmbH",
            address=PostalAddress(
                street_name="Hauptstrasse",
                building_number="1",
                post_code="10115",
                town_name="Berlin",
                country="DE",
            ),
        ),
        "debtor_account": Account(iban="DE89370400440532013000"),
        "debtor_agent": Agent(bic="COBADEFFXXX"),
        "creditor": Party(
            name="Beta Imports SARL",
            address=PostalAddress(address_lines=["12 Rue de la Paix", "75002 Paris"]),
        ),
        "creditor_account": Account(iban="FR1420041010050500013M02606"),
        "creditor_agent": Agent(bic="BNPAFRPPXXX"),
        "end_to_end_id": "E2E-2024-0001",
        "instruction_id": "INSTR-1",
        "uetr": uuid.UUID("6c0a0a36-8f2f-4b1e-9d7a-2a6f3f0c1e11"),
        "remittance": Remittance(unstructured="Invoice 4711"),
    }
    fields.update(overrides)
    return PaymentOrder.model_validate(fields)


CREATED = dt.datetime(2024, 5, 6, 10, 30, tzinfo=dt.UTC)
