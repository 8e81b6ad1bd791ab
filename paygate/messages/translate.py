"""MT103 <-> pacs.008 translation following CBPR+ practice, each way with a loss report."""

from __future__ import annotations

import datetime as dt

from paygate.errors import TranslationStopped
from paygate.messages.loss import LossCode, LossReport
from paygate.messages.mt.blocks import parse_mt_file
from paygate.messages.mt.mt103 import build_mt103, read_mt103
from paygate.messages.pacs008 import build_pacs008, parse_pacs008

# Fields of an MT103 with no place in pacs.008.001.08 as built here (33B, 36, 71F, 71G,
# 72, 13C CLS/TIL/FRO/REJTIME, 53a/54a options A and D travel in ``TxExtras``).
_NOT_MAPPED_NOTE = {
    "13C": "time indication code other than CLSTIME/TILTIME/FROTIME/REJTIME",
    "23E": "instruction code: no coded InstrForCdtrAgt/NxtAgt mapping kept",
    "26T": "transaction type code: no pacs.008 element",
    "51A": "sending institution: no pacs.008 element",
    "53B": "sender's correspondent by location only: no BIC for InstgRmbrsmntAgt",
    "54B": "receiver's correspondent by location only: no BIC for InstdRmbrsmntAgt",
    "55A": "third reimbursement institution: not carried",
    "55B": "third reimbursement institution: not carried",
    "55D": "third reimbursement institution: not carried",
    "57B": "account with institution by location only",
    "77B": "regulatory reporting: RgltryRptg not built",
    "77T": "envelope contents: not carried",
    "33B": "zero instructed amount: ActiveOrHistoricCurrencyAndAmount must be positive",
    "71F": "zero sender's charges: ChrgsInf/Amt must be positive",
    "71G": "zero receiver's charges: ChrgsInf/Amt must be positive",
}


def mt103_to_pacs008(text: str, *, msg_id: str, created: dt.datetime) -> tuple[bytes, LossReport]:
    """One MT103 -> one XSD-valid pacs.008. UETR must come from block 3 field 121."""
    report = LossReport()
    messages = parse_mt_file(text)
    if len(messages) != 1:
        raise TranslationStopped(f"expected one MT103, found {len(messages)}")
    mt = read_mt103(messages[0])
    if mt.uetr is None:
        raise TranslationStopped("MT103 has no UETR in block 3 {121:}; it is mandatory")
    for f in mt.unmapped:
        report.add(LossCode.NOT_MAPPED, f"/{f.tag}", f.value, _NOT_MAPPED_NOTE.get(f.tag, ""))
    if mt.bank_operation_code != "CRED":
        report.add(LossCode.NOT_MAPPED, "/23B", mt.bank_operation_code)
    # 53a/54a name correspondents: the settlement is then by cover (COVE, with the
    # reimbursement agents in SttlmInf); otherwise directly over the accounts (INDA).
    extras = mt.extras
    has_extras = bool(extras)
    reimbursed = extras.instructing_reimbursement_agent or extras.instructed_reimbursement_agent
    located = any(f.tag in ("53B", "54B") for f in mt.unmapped)
    method = "COVE" if reimbursed or located else "INDA"
    xml = build_pacs008(
        [mt.order],
        msg_id=msg_id,
        created=created,
        tx_ids=[mt.sender_reference],
        settlement_date=mt.value_date,
        instructing_agent_bic=mt.sender_bic,
        instructed_agent_bic=mt.receiver_bic,
        settlement_method=method,
        extras=[extras] if has_extras else None,
    )
    return xml, report


def pacs008_to_mt103(data: bytes) -> tuple[str, LossReport]:
    """A single-transaction pacs.008 -> MT103; several transactions cannot become one."""
    report = LossReport()
    message = parse_pacs008(data)
    if len(message.transactions) != 1:
        report.add(LossCode.STOP, "/CdtTrfTxInf", str(len(message.transactions)))
        raise TranslationStopped(
            f"pacs.008 carries {len(message.transactions)} transactions; an MT103 holds one"
        )
    [tx] = message.transactions
    sender = tx.instructing_agent_bic or (tx.order.debtor_agent and tx.order.debtor_agent.bic)
    receiver = tx.instructed_agent_bic or (tx.order.creditor_agent and tx.order.creditor_agent.bic)
    if not sender or not receiver:
        raise TranslationStopped("instructing and instructed agent BICs are needed for an MT103")
    if tx.settlement_date is None:
        raise TranslationStopped("pacs.008 has no interbank settlement date for :32A:")
    reference = tx.order.instruction_id or tx.tx_id or message.msg_id
    text = build_mt103(
        tx.order,
        sender_reference=reference,
        value_date=tx.settlement_date,
        sender_bic=sender,
        receiver_bic=receiver,
        report=report,
        extras=tx.extras,
    )
    return text, report
