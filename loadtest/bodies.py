"""Request bodies for the load generator, deterministic from a seed.

``payment`` bodies are realistic canonical payment orders (valid IBANs and BICs, amounts in
EUR with two decimals, a unique end-to-end id per request) between banks in five European
countries; ``domestic`` ones are the same between German banks; ``echo`` bodies are a small JSON
document of similar size for the bare echo baseline. Only the ``Idempotency-Key`` header is
random (uuid4), so that repeated runs against one gateway never replay each other.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from typing import Final

BODY_KINDS: Final = ("payment", "domestic", "echo")

# (IBAN, BIC of the same bank or at least the same country, a plausible holder name)
ACCOUNTS: Final[tuple[tuple[str, str, str], ...]] = (
    ("DE89370400440532013000", "DEUTDEFF", "Acme GmbH"),
    ("FR1420041010050500013M02606", "BNPAFRPP", "Jane Doe"),
    ("GB29NWBK60161331926819", "NWBKGB2L", "Brown & Sons Ltd"),
    ("NL91ABNA0417164300", "ABNANL2A", "Van Dijk B.V."),
    ("ES9121000418450200051332", "CAIXESBB", "Ferreteria Lopez SL"),
)

# German accounts at German banks: payments that stay in one country (a domestic RTGS
# carries them; cross-border ones go to correspondent banking).
DOMESTIC_ACCOUNTS: Final[tuple[tuple[str, str, str], ...]] = (
    ("DE89370400440532013000", "COBADEFF", "Acme GmbH"),
    ("DE44500105175407324931", "INGDDEFF", "Mueller Maschinenbau AG"),
    ("DE75512108001245126199", "SOGEDEFF", "Schmidt & Partner KG"),
)

JSON_HEADERS: Final[dict[str, str]] = {"Content-Type": "application/json"}


def payment_body(
    n: int, rng: random.Random, accounts: tuple[tuple[str, str, str], ...] = ACCOUNTS
) -> dict[str, object]:
    """The ``n``-th payment order between two different ``accounts``; amounts and parties
    drawn from ``rng``."""
    debtor_i = rng.randrange(len(accounts))
    creditor_i = (debtor_i + 1 + rng.randrange(len(accounts) - 1)) % len(accounts)
    d_iban, _d_bic, d_name = accounts[debtor_i]
    c_iban, c_bic, c_name = accounts[creditor_i]
    cents = rng.randrange(100, 500_000)  # 1.00 .. 4,999.99
    return {
        "amount": {"value": f"{cents // 100}.{cents % 100:02d}", "currency": "EUR"},
        "debtor": {"name": d_name},
        "debtor_account": {"iban": d_iban},
        "creditor": {"name": c_name},
        "creditor_account": {"iban": c_iban},
        "creditor_agent": {"bic": c_bic},
        "end_to_end_id": f"E2E-{n}",
        "remittance": {"unstructured": f"Invoice {n}"},
        "product": "supplier",
    }


def echo_body(n: int, rng: random.Random) -> dict[str, object]:
    """A small JSON document for the echo baseline (similar size to a payment order)."""
    return {"n": n, "value": rng.randrange(1_000_000), "note": f"echo request {n}"}


def request_stream(
    body_kind: str, seed: int, base_headers: dict[str, str] | None = None
) -> Iterator[tuple[bytes | None, dict[str, str]]]:
    """Endless ``(body, headers)`` pairs for ``body_kind``, numbered from 1.

    ``payment`` (cross-border) and ``domestic`` (German accounts only) add a fresh
    ``Idempotency-Key`` (uuid4) to every request's headers.
    ``none`` yields no body (for GET).
    """
    if body_kind not in (*BODY_KINDS, "none"):
        raise ValueError(f"unknown body kind {body_kind!r}; expected one of {BODY_KINDS}")
    rng = random.Random(seed)
    headers = {**JSON_HEADERS, **(base_headers or {})}
    n = 0
    while True:
        n += 1
        if body_kind in ("payment", "domestic"):
            accounts = ACCOUNTS if body_kind == "payment" else DOMESTIC_ACCOUNTS
            body = json.dumps(payment_body(n, rng, accounts), separators=(",", ":")).encode()
            yield body, {**headers, "Idempotency-Key": str(uuid.uuid4())}
        elif body_kind == "echo":
            yield json.dumps(echo_body(n, rng), separators=(",", ":")).encode(), headers
        else:
            yield None, dict(base_headers or {})
