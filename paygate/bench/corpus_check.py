"""Run paygate's codecs over a folder of messages written by others (not a test).

Usage: python -m paygate.bench.corpus_check ../shared/corpus/messages
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from paygate.errors import MessageError, MtSyntaxError
from paygate.messages.camt import parse_camt053, parse_camt054
from paygate.messages.mt.blocks import parse_mt_file
from paygate.messages.mt.mt103 import read_mt103
from paygate.messages.mt.mt199 import parse_mt199_status, read_mt199
from paygate.messages.mt.mt202 import read_mt202
from paygate.messages.mt.rules import field_errors
from paygate.messages.mt.statement import parse_mt_statements
from paygate.messages.pacs002 import parse_pacs002
from paygate.messages.pacs004 import parse_pacs004
from paygate.messages.pacs008 import parse_pacs008
from paygate.messages.pacs009 import parse_pacs009
from paygate.messages.pain001 import parse_pain001
from paygate.messages.xsd import default_registry, read_iso


def _mt103(data: bytes) -> object:
    return [read_mt103(m, strict=False) for m in parse_mt_file(data.decode("utf-8"))]


def _mt202(data: bytes) -> object:
    # Corpus MT202s are often fragments without a UETR: read the fields, then the transfer
    # when the message has what a pacs.009 needs. Parsing is lenient; rules are validate's.
    messages = parse_mt_file(data.decode("utf-8"))
    for m in messages:
        m.mt_hint = m.mt_hint or "202"
        if "121" in m.user_header:
            read_mt202(m, strict=False)
    return messages


def _mt199(data: bytes) -> object:
    # A gpi status or /REJT/ is read as a status; free-format text is read as it stands.
    text = data.decode("utf-8")
    try:
        return parse_mt199_status(text)
    except MtSyntaxError:
        return [read_mt199(m, strict=False) for m in parse_mt_file(text)]


def _mt_generic(data: bytes) -> object:
    return parse_mt_file(data.decode("utf-8", "replace"))


def _statements(data: bytes) -> object:
    return parse_mt_statements(data.decode("utf-8", "replace"))


def _xml_generic(data: bytes) -> object:
    return read_iso(data)


PARSERS: dict[str, Callable[[bytes], object]] = {
    "pacs.008": parse_pacs008,
    "pacs.002": parse_pacs002,
    "camt.053": parse_camt053,
    "camt.054": parse_camt054,
    "pacs.004": parse_pacs004,
    "pacs.009": parse_pacs009,
    "pain.001": parse_pain001,
    "pain.002": _xml_generic,
    "mt103": _mt103,
    "mt202": _mt202,
    "mt199": _mt199,
    "mt940": _statements,
    "mt950": _statements,
}


def _strict(data: bytes) -> None:
    """The checks a negative sample should fail: XSD when we hold it, else parse."""
    if data.lstrip()[:1] == b"<":
        iso = read_iso(data)
        registry = default_registry()
        if registry.has(iso.message_id):
            registry.validate(iso)
        if iso.app_hdr is not None:
            declared = next((e.text for e in iso.app_hdr.iter("{*}MsgDefIdr")), None)
            if declared and declared.strip() != iso.message_id:
                raise MessageError(f"AppHdr MsgDefIdr {declared} != Document {iso.message_id}")
        _cbpr_rules(iso)
        {"pacs.008": parse_pacs008, "pacs.002": parse_pacs002, "camt.054": parse_camt054}.get(
            iso.kind, lambda d: None
        )(data)
    else:
        errors = [e for m in parse_mt_file(data.decode("utf-8")) for e in field_errors(m)]
        if errors:
            raise MessageError(errors[0].reason)


def _cbpr_rules(iso: Any) -> None:
    # Two CBPR+ usage rules that the negative samples exercise (not XSD rules).
    for el in iso.document.iter("{*}InstrId"):
        text = (el.text or "").strip()
        if text.startswith("/") or text.endswith("/") or "//" in text:
            raise MessageError(f"InstrId {text!r} breaks CBPR+ slash rule")
    if iso.app_hdr is not None and iso.kind == "pacs.008":
        fr = next((e.text for e in iso.app_hdr.iter("{*}BICFI")), None)
        instg = next(
            (e.findtext("{*}FinInstnId/{*}BICFI") for e in iso.document.iter("{*}InstgAgt")), None
        )
        if fr and instg and fr.strip() != instg.strip():
            raise MessageError(f"AppHdr Fr BIC {fr} != InstgAgt BIC {instg}")


def run(root: Path) -> dict[str, Any]:
    result: dict[str, Any] = {"parsed": {}, "failed": {}, "negative": {}}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        if folder.name == "negative":
            for sample in sorted(folder.iterdir()):
                try:
                    _strict(sample.read_bytes())
                    result["negative"][sample.name] = "NOT REJECTED"
                except MessageError as exc:
                    result["negative"][sample.name] = f"{type(exc).__name__}: {exc.detail}"[:160]
            continue
        parser = PARSERS.get(folder.name)
        if parser is None:
            continue
        ok = 0
        for sample in sorted(folder.iterdir()):
            try:
                parser(sample.read_bytes())
                ok += 1
            except (MessageError, UnicodeDecodeError) as exc:
                result["failed"][f"{folder.name}/{sample.name}"] = str(exc)[:160]
        result["parsed"][folder.name] = f"{ok}/{len(list(folder.iterdir()))}"
    return result


if __name__ == "__main__":
    import json

    print(
        json.dumps(
            run(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/corpus/messages")), indent=1
        )
    )
