"""``paygate convert`` and ``paygate validate``: the codecs from the command line.

Exit codes: 0 ok, 1 converted with losses, 2 invalid input.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from paygate.errors import MessageError
from paygate.messages.camt056 import cancellation_for_pacs008
from paygate.messages.detect import detect_type
from paygate.messages.loss import LossReport
from paygate.messages.mt.blocks import parse_mt_file
from paygate.messages.mt.rules import field_errors
from paygate.messages.translate import mt103_to_pacs008, pacs008_to_mt103
from paygate.messages.translate_cash import (
    camt053_to_mt940,
    camt054_to_mt900,
    mt900_to_camt054,
    mt940_to_camt053,
)
from paygate.messages.translate_fi import (
    mt103_return_to_pacs004,
    mt199_to_pacs002,
    mt202_to_pacs009,
    pacs002_to_mt199,
    pacs004_to_mt103_return,
    pacs009_to_mt202,
)
from paygate.messages.xsd import default_registry, read_iso

Converter = Callable[[bytes, argparse.Namespace, dt.datetime, str], tuple[bytes, LossReport]]


def _text(fn: Callable[..., tuple[str, LossReport]]) -> Callable[..., tuple[bytes, LossReport]]:
    def run(*args: Any, **kwargs: Any) -> tuple[bytes, LossReport]:
        text, report = fn(*args, **kwargs)
        return text.encode("utf-8"), report

    return run


def _mt_in(fn: Callable[..., tuple[bytes, LossReport]]) -> Converter:
    return lambda data, args, now, msg_id: fn(data.decode("utf-8"), msg_id=msg_id, created=now)


def _bics(fn: Callable[..., tuple[str, LossReport]]) -> Converter:
    return lambda data, args, now, msg_id: _text(fn)(
        data, sender_bic=args.sender, receiver_bic=args.receiver
    )


def _camt056(data: bytes, args: argparse.Namespace, now: dt.datetime, msg_id: str) -> Any:
    xml = cancellation_for_pacs008(data, reason_code=args.reason, assignment_id=msg_id, created=now)
    return xml, LossReport()


CONVERTERS: dict[tuple[str, str], Converter] = {
    ("MT103", "pacs.008"): _mt_in(mt103_to_pacs008),
    ("pacs.008", "MT103"): lambda data, *_: _text(pacs008_to_mt103)(data),
    ("MT202", "pacs.009"): _mt_in(mt202_to_pacs009),
    ("MT202COV", "pacs.009"): _mt_in(mt202_to_pacs009),
    ("pacs.009", "MT202"): lambda data, *_: _text(pacs009_to_mt202)(data),
    ("pacs.009", "MT202COV"): lambda data, *_: _text(pacs009_to_mt202)(data),
    ("MT103", "pacs.004"): _mt_in(mt103_return_to_pacs004),
    ("pacs.004", "MT103"): lambda data, *_: _text(pacs004_to_mt103_return)(data),
    ("MT199", "pacs.002"): _mt_in(mt199_to_pacs002),
    ("pacs.002", "MT199"): _bics(pacs002_to_mt199),
    ("MT900", "camt.054"): _mt_in(mt900_to_camt054),
    ("MT910", "camt.054"): _mt_in(mt900_to_camt054),
    ("camt.054", "MT900"): _bics(camt054_to_mt900),
    ("camt.054", "MT910"): _bics(camt054_to_mt900),
    ("camt.053", "MT940"): lambda data, args, *_: _text(camt053_to_mt940)(
        data, sender_bic=args.sender, receiver_bic=args.receiver, max_entries=args.page_size
    ),
    ("camt.053", "MT950"): lambda data, args, *_: _text(camt053_to_mt940)(
        data,
        sender_bic=args.sender,
        receiver_bic=args.receiver,
        max_entries=args.page_size,
        mt_type="950",
    ),
    ("MT940", "camt.053"): _mt_in(mt940_to_camt053),
    ("MT950", "camt.053"): _mt_in(mt940_to_camt053),
    ("pacs.008", "camt.056"): _camt056,
}
PAIRS = set(CONVERTERS)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    convert = subparsers.add_parser("convert", help="translate a message MT <-> MX")
    convert.add_argument("--from", dest="source", help="input type (detected if omitted)")
    convert.add_argument("--to", dest="target", required=True, help="output type, e.g. pacs.008")
    convert.add_argument("--sender", help="sender BIC when the input does not name it")
    convert.add_argument("--receiver", help="receiver BIC when the input does not name it")
    convert.add_argument("--page-size", type=int, default=100, help="MT940 entries per page")
    convert.add_argument("--reason", default="DUPL", help="camt.056 cancellation reason code")
    convert.add_argument("input", type=Path)
    convert.add_argument("-o", "--output", type=Path)
    convert.set_defaults(handler=run_convert)
    validate = subparsers.add_parser("validate", help="check messages against XSD or MT rules")
    validate.add_argument("files", nargs="+", type=Path)
    validate.set_defaults(handler=run_validate)


def run_convert(args: argparse.Namespace) -> int:
    data = args.input.read_bytes()
    for name in ("sender", "receiver", "page_size", "reason"):
        if not hasattr(args, name):
            setattr(args, name, {"page_size": 100, "reason": "DUPL"}.get(name))
    try:
        source = args.source or detect_type(data)
        converter = CONVERTERS.get((source, args.target))
        if converter is None:
            supported = ", ".join(f"{a}->{b}" for a, b in sorted(PAIRS))
            print(
                f"unsupported conversion {source}->{args.target} (have {supported})",
                file=sys.stderr,
            )
            return 2
        now = dt.datetime.now(dt.UTC)  # the CLI is the I/O shell: it may read the clock
        out, report = converter(data, args, now, uuid.uuid4().hex[:35])
    except MessageError as exc:
        print(f"invalid input: {exc.detail}", file=sys.stderr)
        for err in getattr(exc, "errors", []):
            print(f"  {err.pointer}: {err.reason}", file=sys.stderr)
        return 2
    except UnicodeDecodeError:
        print("invalid input: SWIFT MT must be UTF-8 text", file=sys.stderr)
        return 2
    if args.output:
        args.output.write_bytes(out)
    else:
        sys.stdout.buffer.write(out)
    for line in report.lines():
        print(line, file=sys.stderr)
    return 1 if report else 0


def run_validate(args: argparse.Namespace) -> int:
    worst = 0
    for path in args.files:
        data = path.read_bytes()
        try:
            if data.lstrip()[:1] == b"<":
                default_registry().validate(read_iso(data))
                errors = []
            else:
                errors = [e for m in parse_mt_file(data.decode("utf-8")) for e in field_errors(m)]
        except MessageError as exc:
            errors = getattr(exc, "errors", []) or []
            if not errors:
                print(f"{path}: {exc.detail}")
                worst = 2
                continue
        except UnicodeDecodeError:
            print(f"{path}: not UTF-8 text")
            worst = 2
            continue
        for err in errors:
            print(f"{path}: {err.pointer}: {err.reason}")
        if errors:
            worst = 2
    return worst
