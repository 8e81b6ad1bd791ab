"""SWIFT endpoints: POST /mt103 (text/plain FIN) -> MT199 gpi status; GET /status/{uetr}."""

from __future__ import annotations

from aiohttp import web

from simulators.http_common import act_out, rail_of
from simulators.ledger import ACCEPTED, RECEIVED, REJECTED, SETTLED, Entry
from simulators.mt_codec import MtFormatError, build_mt199, mt_amount, parse_mt103, to_x
from simulators.rail import Rail

# gpi status lines in field 79; queued payments are ACSP/G003 ("pending credit").
_STATUS_LINE = {SETTLED: "//ACSC", ACCEPTED: "//ACSP/G003", RECEIVED: "//ACSP/G000"}


def mt199_for(rail: Rail, entry: Entry) -> str:
    if entry.phase == REJECTED:
        status = f"//RJCT/{entry.reason}"
        extra = [f"//{entry.currency}{mt_amount(entry.amount, entry.currency)}"]
    else:
        status = _STATUS_LINE[entry.phase]
        extra = [
            f"//{entry.currency}{mt_amount(entry.amount, entry.currency)}",
            f"//CHGS/{entry.currency}{mt_amount(entry.fee, entry.currency)}",
        ]
    return build_mt199(
        our_ref=entry.bank_ref or rail.next_bank_ref(),
        related_ref=entry.reference,
        uetr=entry.uetr,
        at=entry.booked_at,
        status_line=status,
        extra_lines=extra,
    )


def _text(body: str) -> web.Response:
    return web.Response(text=body, content_type="text/plain")


async def post_mt103(request: web.Request) -> web.StreamResponse:
    rail = rail_of(request)
    raw = await request.read()
    try:
        msg = parse_mt103(raw.decode("utf-8"))
    except (MtFormatError, UnicodeDecodeError) as exc:
        detail = exc.detail if isinstance(exc, MtFormatError) else "not UTF-8 text"
        uetr = exc.uetr if isinstance(exc, MtFormatError) else None
        ref = exc.reference if isinstance(exc, MtFormatError) else None
        return _text(
            build_mt199(
                our_ref=rail.next_bank_ref(),
                related_ref=ref or "NONREF",
                uetr=uetr,
                at=rail.clock.now(),
                status_line="//RJCT/FF01",
                extra_lines=[f"//{to_x(detail)[:33]}"],
            )
        )
    submission = await rail.submit(
        [msg.instruction],
        dedupe_on_uetr=True,
        callback_url=request.headers.get("X-Callback-Url"),
    )
    response = _text(mt199_for(rail, submission.results[0].entry))
    return await act_out(rail, submission.fault, request, response)


async def get_status(request: web.Request) -> web.StreamResponse:
    rail = rail_of(request)
    uetr = request.match_info["uetr"]
    entry = rail.find(uetr=uetr)
    if entry is None:
        return web.json_response({"error": "not_found", "uetr": uetr}, status=404)
    return web.json_response(
        {
            "uetr": uetr,
            "status": entry.status,
            "reason": entry.reason,
            "reference": entry.reference,
            "iso_status": entry.iso_status,
            "fee": str(entry.fee),
            "value_date": entry.value_date.isoformat() if entry.value_date else None,
        }
    )
