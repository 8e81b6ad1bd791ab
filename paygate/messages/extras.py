"""Interbank details of one customer transfer that the canonical PaymentOrder does not hold
but pacs.008.001.08 does: instructed amount (MT 33B), exchange rate (36), charges (71F
each, 71G), instructions (72 codewords), previous instructing agent (72 /INS/),
settlement time request (13C) and the reimbursement agents (53a/54a, group level).

They travel beside the order, so that MT103 <-> pacs.008 keeps them both ways.
"""

from __future__ import annotations

from dataclasses import dataclass

from paygate.domain import Agent, Money

# 72 codewords (SWIFT MT103 usage rules) and where pacs.008.001.08 puts them.
FOR_CREDITOR_AGENT = {"ACC", "PHONBEN", "TELEBEN"}
FOR_NEXT_AGENT = {"INT", "REC", "PHONIBK", "TELEIBK", "BNF", "TSU", "SVC"}
# 13C codes -> SettlementDateTimeIndication/Request elements.
TIME_CODES = {"CLSTIME": "CLSTm", "TILTIME": "TillTm", "FROTIME": "FrTm", "REJTIME": "RjctTm"}


@dataclass(frozen=True)
class Charge:
    amount: Money
    agent_bic: str | None  # who took (71F) or is owed (71G) the charges
    receivers: bool = False  # True for 71G (receiver's charges, prepaid by the sender)


@dataclass(frozen=True)
class TxExtras:
    instructed_amount: Money | None = None  # 33B
    exchange_rate: str | None = None  # 36, as a decimal string (12 digits with comma in MT)
    charges: tuple[Charge, ...] = ()  # 71F (several), 71G (one)
    for_creditor_agent: tuple[str, ...] = ()  # InstrForCdtrAgt/InstrInf, "/ACC/..." style
    for_next_agent: tuple[str, ...] = ()  # InstrForNxtAgt/InstrInf
    previous_instructing_agent: str | None = None  # 72 /INS/ BIC -> PrvsInstgAgt1
    settlement_times: tuple[tuple[str, str], ...] = ()  # (13C code, ISO time hh:mm:ss+hh:mm)
    instructing_reimbursement_agent: Agent | None = None  # 53a
    instructed_reimbursement_agent: Agent | None = None  # 54a

    def __bool__(self) -> bool:
        return bool(
            self.instructed_amount
            or self.exchange_rate
            or self.charges
            or self.for_creditor_agent
            or self.for_next_agent
            or self.previous_instructing_agent
            or self.settlement_times
            or self.instructing_reimbursement_agent
            or self.instructed_reimbursement_agent
        )
