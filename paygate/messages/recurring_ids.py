"""Account and agent instances for identifiers that recur across messages.

Reading a message builds an ``Account`` per IBAN and an ``Agent`` per BIC, and the same
banks and accounts appear in message after message. The models are frozen and hold
nothing mutable when given only an IBAN or a BIC, so one validated instance per
identifier can be shared; the bounded caches keep memory flat under many distinct ones.
An invalid identifier raises on every call (``lru_cache`` keeps no exceptions), with
the model's own ``ValidationError``.
"""

from __future__ import annotations

from functools import lru_cache

from paygate.domain import Account, Agent


@lru_cache(maxsize=8192)
def account_for_iban(iban: str) -> Account:
    """``Account(iban=iban)``, validated once per distinct string."""
    return Account(iban=iban)


@lru_cache(maxsize=8192)
def agent_for_bic(bic: str) -> Agent:
    """``Agent(bic=bic)``, validated once per distinct string."""
    return Agent(bic=bic)
