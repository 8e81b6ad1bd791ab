"""``paygate convert`` and ``paygate validate``: the codecs from the command line.

Exit codes: 0 ok, 1 converted with losses, 2 invalid input.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import uuid
from pathlib import Path

from paygate.errors import MessageError
from paygate.messages.detect import detect_type
from paygate.messages.loss import LossReport
from paygate.messages.mt.blocks import parse_mt_file
from paygate.messages.mt.rules import field_errors
from paygate.messages.translate import mt103_to_pacs008, pacs008_to_mt103
from paygate.messages.xsd import default_registry, read_iso

PAIRS = {("MT103", "pacs.008"), ("pacs.008", "MT103")}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    convert = subparsers.add_parser("convert", help="translate a message MT <-> MX")
    convert.add_argument("--from", dest="source", help="input type (detected if omitted)")
    convert.add_argument("--to", dest="target", required=True, help="output type, e.g. pacs.008")
    convert.add_argument("input", type=Path)
    convert.add_argument("-o", "--output", type=Path)
    convert.set_defaults(handler=run_convert)
    validate = subparsers.add_parser("validate", help="check messages against XSD or MT rules")
    validate.add_argument("files", nargs="+", type=Path)
    validate.set_defaults(handler=run_validate)


def run_convert(args: argparse.Namespace) -> int:
    data = args.input.read_bytes()
    try:
        source = args.source or detect_type(data)
        pair = (source, args.target)
        report: LossReport
        if pair == ("MT103", "pacs.008"):
            now = dt.datetime.now(dt.UTC)  # the CLI is the I/O shell: it may read the clock
            xml, report = mt103_to_pacs008(
                data.decode("utf-8"), msg_id=uuid.uuid4().hex[:35], created=now
            )
            out: bytes = xml
        elif pair == ("pacs.008", "MT103"):
            text, report = pacs008_to_mt103(data)
            out = text.encode("utf-8")
        else:
            supported = ", ".join(f"{a}->{b}" for a, b in sorted(PAIRS))
            print(
                f"unsupported conversion {source}->{args.target} (have {supported})",
                file=sys.stderr,
            )
            return 2
    except MessageError as exc:
        print(f"invalid input: {exc.detail}", file=sys.stderr)
        for err in getattr(exc, "errors", []):
            print(f"  {err.pointer}: {err.reason}", file=sys.stderr)
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
