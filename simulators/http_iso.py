"""ISO 20022 endpoints: POST /pacs008 -> pacs.002, POST /pacs028 -> pacs.002 or 404."""

from __future__ import annotations

from aiohttp import web

from simulators.http_common import act_out, json_error, rail_of, xml_response
from simulators.iso_codec import (
    IsoFormatError,
    TxStatus,
    build_pacs002,
    parse_pacs008,
    parse_pacs028,
)
from simulators.ledger import REJECTED, SETTLED, Entry
from simulators.rail import Rail

MAX_BODY = 20 * 1024 * 1024


def tx_status(entry: Entry) -> TxStatus:
    return TxStatus(
        end_to_end_id=entry.end_to_end_id,
        tx_id=entry.reference,
        uetr=entry.uetr,
        instr_id=entry.instr_id,
        status=entry.iso_status,
        reason=entry.reason,
        accepted_at=entry.booked_at if entry.phase == SETTLED else entry.received_at,
        fee=entry.fee if entry.phase != REJECTED else None,
        currency=entry.currency,
        settlement_date=entry.value_date,
        bank_ref=entry.bank_ref or None,
    )


def pacs002_for(rail: Rail, orig_msg_id: str, entries: list[Entry], orig_name: str) -> bytes:
    return build_pacs002(
        msg_id=rail.next_bank_ref(),
        created=rail.clock.now(),
        orig_msg_id=orig_msg_id,
        orig_msg_name=orig_name,
        statuses=[tx_status(e) for e in entries],
        agent_name=rail.id.upper(),
    )


async def post_pacs008(request: web.Request) -> web.StreamResponse:
    rail = rail_of(request)
    body = await request.read()
    try:
        msg = parse_pacs008(body)
    except IsoFormatError as exc:
        # Not booked at all: group-level RJCT FF01, 200, plus RJCT per TxId we could read.
        now = rail.clock.now()
        statuses = [
            TxStatus(
                end_to_end_id="NOTPROVIDED",
                tx_id=t,
                uetr=None,
                instr_id=None,
                status="RJCT",
                reason="FF01",
                accepted_at=now,
            )
            for t in exc.tx_ids
            if t
        ]
        return xml_response(
            build_pacs002(
                msg_id=rail.next_bank_ref(),
                created=now,
                orig_msg_id=exc.msg_id or "NOTPROVIDED",
                statuses=statuses,
                group_status="RJCT",
                group_reason="FF01",
                group_detail=exc.detail,
                agent_name=rail.id.upper(),
            )
        )
    # Only a cycle-settled rail books a message as one batch; gross rails book each transaction.
    batched = rail.config.settlement == "cycle"
    submission = await rail.submit(
        msg.transactions,
        batch_id=msg.msg_id if batched else None,
        msg_id=msg.msg_id,
        callback_url=request.headers.get("X-Callback-Url"),
    )
    entries = [r.entry for r in submission.results]
    response = xml_response(pacs002_for(rail, msg.msg_id, entries, "pacs.008.001.08"))
    return await act_out(rail, submission.fault, request, response)


async def post_pacs028(request: web.Request) -> web.StreamResponse:
    rail = rail_of(request)
    try:
        queries = parse_pacs028(await request.read())
    except IsoFormatError as exc:
        return json_error(400, "FF01", detail=exc.detail)
    found: list[Entry] = []
    missing: list[dict[str, str | None]] = []
    for q in queries:
        entry = rail.find(reference=q.tx_id, uetr=q.uetr, e2e=None if q.tx_id else q.end_to_end_id)
        if entry is None:
            missing.append({"tx_id": q.tx_id, "uetr": q.uetr, "end_to_end_id": q.end_to_end_id})
        else:
            found.append(entry)
    if missing:
        # 404 is the sender's proof that the rail never received (or never booked) it.
        return json_error(404, "not_found", missing=missing)
    orig = found[0].msg_id or "NOTPROVIDED"
    return xml_response(pacs002_for(rail, orig, found, "pacs.008.001.08"))
