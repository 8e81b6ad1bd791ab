"""The demo's mixed workload: realistic orders that exercise every rail and rule kind.

Deterministic for a seed, so two runs of the demo route the same way.
"""

from __future__ import annotations

import random
import uuid
from decimal import Decimal
from typing import Any

# Valid German IBANs (checksums correct) for domestic EUR payees.
_DE_IBANS = [
    "DE89370400440532013000",
    "DE02120300000000202051",
    "DE12500105170648489890",
    "DE02100100100006820101",
    "DE44500105175407324931",
    "DE75512108001245126199",
]
_EU_BICS = ["COBADEFFXXX", "BYLADEM1001", "DEUTDEFF"]
_CITY_BICS = ["BKSHCNSHXXX", "HZCBCN2HXXX"]


def _lei(seed: str) -> str:
    """An LEI with correct ISO 17442 check digits, derived from ``seed``."""
    base = (seed.upper() + "0" * 18)[:18]
    digits = "".join(str(int(c, 36)) for c in base + "00")
    return base + f"{98 - int(digits) % 97:02d}"


def _amount(rng: random.Random, low: float, high: float, places: int = 2) -> str:
    # The float only draws a number; the amount itself is a Decimal string.
    raw = Decimal(str(rng.uniform(low, high))).quantize(Decimal(1).scaleb(-places))
    return str(raw)


def _base(n: int, amount: str, currency: str) -> dict[str, Any]:
    return {
        "amount": {"value": amount, "currency": currency},
        "debtor": {"name": "Acme Treasury GmbH"},
        "debtor_account": {"iban": "DE89370400440532013000"},
        "debtor_agent": {"bic": "DEUTDEFF"},
        "creditor_agent": {"bic": "COBADEFFXXX"},
        "end_to_end_id": f"DEMO-{n:06d}",
        "instruction_id": f"I{n:06d}",
        "remittance": {"unstructured": f"Invoice {n}"},
    }


def make_order(n: int, rng: random.Random) -> tuple[str, dict[str, Any]]:
    """One order and the workload segment it belongs to."""
    roll = rng.random()
    payee = rng.randrange(len(_DE_IBANS))
    if roll < 0.30:
        body = _base(n, _amount(rng, 5, 400), "EUR")
        body.update(
            creditor={"name": f"Payee {payee}"},
            creditor_account={"iban": _DE_IBANS[payee]},
            creditor_agent={"bic": rng.choice(_EU_BICS)},
            product="vendor",
        )
        segment = "small EUR"
    elif roll < 0.45:
        body = _base(n, _amount(rng, 20, 200), "EUR")
        body.update(
            creditor={"name": f"Employee {payee}"},
            creditor_account={"iban": _DE_IBANS[payee]},
            product="payroll",
            business_category="SALA",
        )
        segment = "payroll"
    elif roll < 0.53:
        body = _base(n, _amount(rng, 150_000, 2_000_000), "EUR")
        body.update(
            creditor={"name": "Industrial Supplier AG"},
            creditor_account={"iban": _DE_IBANS[payee]},
            creditor_agent={"bic": "COBADEFFXXX"},
            product="treasury",
        )
        segment = "high value EUR"
    elif roll < 0.61:
        body = _base(n, _amount(rng, 50, 5000), "EUR")
        body.update(
            creditor={"name": f"Payee {payee}"},
            creditor_account={"iban": _DE_IBANS[payee]},
            priority="urgent",
        )
        segment = "urgent EUR"
    elif roll < 0.67:
        body = _base(n, _amount(rng, 500, 20_000), "EUR")
        body.update(
            creditor={"name": f"Supplier {payee}"},
            creditor_account={"iban": _DE_IBANS[payee]},
            product="supplier",
        )
        segment = "supplier EUR"
    elif roll < 0.77:
        body = _base(n, _amount(rng, 10, 3000), "CNY")
        body.update(
            creditor={"name": f"Shop {payee}"},
            creditor_account={"other": f"62220202{n:011d}", "scheme": "BBAN"},
            creditor_agent={"bic": "ICBKCNBJXXX"},
            creditor_country="CN",
            debtor_country="CN",
            product="ecommerce",
            channel="card",
        )  # the merchant acquirer asks for its own network
        segment = "ecommerce CNY"
    elif roll < 0.85:
        body = _base(n, _amount(rng, 1000, 80_000), "CNY")
        body.update(
            creditor={"name": f"Partner {payee}"},
            creditor_account={"other": f"31001{n:012d}", "scheme": "BBAN"},
            creditor_agent={"bic": rng.choice(_CITY_BICS)},
            creditor_country="CN",
            debtor_country="CN",
        )
        segment = "city CNY"
    elif roll < 0.93:
        body = _base(n, _amount(rng, 10_000, 900_000), "CNY")
        body.update(
            debtor={"name": "Acme Treasury GmbH", "lei": _lei("529900ACMETREASURY")},
            creditor={"name": f"Shanghai Trading {payee}", "lei": _lei(f"300300SHTR{payee}")},
            creditor_account={"other": f"44{n:014d}", "scheme": "BBAN"},
            creditor_agent={"bic": "ICBKCNBJXXX"},
            creditor_country="CN",
        )
        segment = "cross-border CNY"
    else:
        body = _base(n, _amount(rng, 1000, 250_000), "USD")
        body.update(
            creditor={"name": f"US Vendor {payee}"},
            creditor_account={"other": f"{n:012d}", "scheme": "BBAN"},
            creditor_agent={"bic": rng.choice(["CHASUS33XXX", "BOFAUS3NXXX"])},
            creditor_country="US",
            charge_bearer="SHAR",
        )
        segment = "cross-border USD"
    body["metadata"] = {"segment": segment}
    return segment, body


def workload(count: int, seed: int = 42) -> list[tuple[str, str, dict[str, Any]]]:
    """(idempotency key, segment, order) triples."""
    rng = random.Random(seed)
    run = uuid.uuid4().hex[:8]  # keys are unique per run; the orders repeat for a seed
    return [(f"demo-{run}-{n}", *make_order(n, rng)) for n in range(count)]
