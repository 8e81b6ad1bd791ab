"""Field-level rules for the MT types paygate speaks: character set X, line counts
and widths, option letters, and mandatory fields per message type."""

from __future__ import annotations

import re
from decimal import Decimal

from paygate.errors import FieldError, MtSyntaxError
from paygate.messages.mt.blocks import MtField, MtMessage, parse_mt_file

X_CHARS = r"A-Za-z0-9/\-?:().,'+ "
_X = f"[{X_CHARS}]"
X_SET = re.compile(f"^[{X_CHARS}\n]*$")
BIC = r"[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?"
_AMOUNT = r"\d[\d,]{0,14}"


def lines(count: int, width: int, cls: str = _X) -> str:
    return rf"{cls}{{1,{width}}}(?:\n{cls}{{0,{width}}}){{0,{count - 1}}}"


_PARTY_ID = r"(?:/[CD])?(?:/" + _X + r"{1,34})?"
_ACCOUNT_LINE = rf"(?:/{_X}{{1,34}}\n)?"
_AGENT_A = rf"(?:{_PARTY_ID}\n)?{BIC}"
_AGENT_D = rf"(?:{_PARTY_ID}\n)?{lines(4, 35)}"
_BALANCE = rf"[CD]\d{{6}}[A-Z]{{3}}{_AMOUNT}"

FORMATS: dict[str, str] = {
    "13C": r"/[A-Z]{1,8}/\d{4}[+-]\d{4}",
    "13D": r"\d{6}\d{4}[+-]\d{4}",
    "20": rf"{_X}{{1,16}}",
    "21": rf"{_X}{{1,16}}",
    "23B": r"[A-Z]{4}",
    "23E": rf"[A-Z]{{4}}(?:/{_X}{{1,30}})?",
    "25": rf"{_X}{{1,35}}",
    "25P": rf"{_X}{{1,35}}\n{BIC}",
    "26T": r"[A-Z0-9]{3}",
    "28": r"\d{1,5}(?:/\d{1,2})?",
    "28C": r"\d{1,5}(?:/\d{1,5})?",
    "32A": rf"\d{{6}}[A-Z]{{3}}{_AMOUNT}",
    "33B": rf"[A-Z]{{3}}{_AMOUNT}",
    "36": r"\d[\d,]{0,11}",
    "50A": rf"{_ACCOUNT_LINE}{BIC}",
    "50F": rf"{_X}{{1,35}}\n{lines(4, 35)}",
    "50K": rf"{_ACCOUNT_LINE}{lines(4, 35)}",
    "51A": _AGENT_A,
    "52A": _AGENT_A,
    "52D": _AGENT_D,
    "53A": _AGENT_A,
    "53B": rf"{_PARTY_ID}(?:\n{_X}{{1,35}})?",
    "53D": _AGENT_D,
    "54A": _AGENT_A,
    "54B": rf"{_PARTY_ID}(?:\n{_X}{{1,35}})?",
    "54D": _AGENT_D,
    "55A": _AGENT_A,
    "56A": _AGENT_A,
    "56C": rf"/{_X}{{1,34}}",
    "56D": _AGENT_D,
    "57A": _AGENT_A,
    "57B": rf"{_PARTY_ID}(?:\n{_X}{{1,35}})?",
    "57C": rf"/{_X}{{1,34}}",
    "57D": _AGENT_D,
    "58A": _AGENT_A,
    "58D": _AGENT_D,
    "59": rf"{_ACCOUNT_LINE}{lines(4, 35)}",
    "59A": rf"{_ACCOUNT_LINE}{BIC}",
    "59F": rf"{_ACCOUNT_LINE}{lines(4, 35)}",
    "60F": _BALANCE,
    "60M": _BALANCE,
    "61": rf"\d{{6}}(?:\d{{4}})?R?[CD][A-Z]?{_AMOUNT}[A-Z0-9]{{4}}{_X}{{1,34}}(?:\n{_X}{{1,34}})?",
    "62F": _BALANCE,
    "62M": _BALANCE,
    "64": _BALANCE,
    "65": _BALANCE,
    "70": lines(4, 35),
    "71A": r"OUR|BEN|SHA",
    "71F": rf"[A-Z]{{3}}{_AMOUNT}",
    "71G": rf"[A-Z]{{3}}{_AMOUNT}",
    "72": lines(6, 35),
    "77B": lines(3, 35),
    "77T": r"[\s\S]{1,9000}",
    "79": lines(35, 50),
    "86": lines(6, 65),
}
_COMPILED = {tag: re.compile(f"^(?:{fmt})$") for tag, fmt in FORMATS.items()}
# Free-text fields as (lines, width): only read to explain a format error precisely.
_SHAPES: dict[str, tuple[int, int]] = {
    "50F": (5, 35),
    "50K": (5, 35),
    "52D": (5, 35),
    "53D": (5, 35),
    "54D": (5, 35),
    "56D": (5, 35),
    "57D": (5, 35),
    "58D": (5, 35),
    "59": (5, 35),
    "59F": (5, 35),
    "70": (4, 35),
    "72": (6, 35),
    "77B": (3, 35),
    "79": (35, 50),
    "86": (6, 65),
}
_BASIC_HEADER = re.compile(r"F01[A-Z0-9]{12}(?:\d{4}\d{6})?")

_PARTY_OPTS = {"50": "AFK", "59": "AF"}

# (mandatory field numbers-with-option groups, allowed tags)
_RULES: dict[str, tuple[list[tuple[str, ...]], set[str]]] = {
    "103": (
        [("20",), ("23B",), ("32A",), ("50A", "50F", "50K"), ("59", "59A", "59F"), ("71A",)],
        {
            "20",
            "13C",
            "23B",
            "23E",
            "26T",
            "32A",
            "33B",
            "36",
            "50A",
            "50F",
            "50K",
            "51A",
            "52A",
            "52D",
            "53A",
            "53B",
            "53D",
            "54A",
            "54B",
            "54D",
            "55A",
            "55B",
            "55D",
            "56A",
            "56C",
            "56D",
            "57A",
            "57B",
            "57C",
            "57D",
            "59",
            "59A",
            "59F",
            "70",
            "71A",
            "71F",
            "71G",
            "72",
            "77B",
            "77T",
        },
    ),
    "202": (
        [("20",), ("21",), ("32A",), ("58A", "58D")],
        {
            "20",
            "21",
            "13C",
            "32A",
            "52A",
            "52D",
            "53A",
            "53B",
            "53D",
            "54A",
            "54B",
            "54D",
            "56A",
            "56D",
            "57A",
            "57B",
            "57D",
            "58A",
            "58D",
            "72",
            "50A",
            "50F",
            "50K",
            "59",
            "59A",
            "59F",
            "70",
            "33B",
        },
    ),
    "940": (
        [("20",), ("25", "25P"), ("28C",), ("60F", "60M"), ("62F", "62M")],
        {"20", "21", "25", "25P", "28C", "60F", "60M", "61", "86", "62F", "62M", "64", "65"},
    ),
    "950": (
        [("20",), ("25",), ("28C",), ("60F", "60M"), ("62F", "62M")],
        {"20", "25", "28C", "60F", "60M", "61", "62F", "62M", "64", "65"},
    ),
    "900": (
        [("20",), ("21",), ("25",), ("32A",)],
        {"20", "21", "25", "25P", "13D", "32A", "52A", "52D", "72"},
    ),
    "910": (
        [("20",), ("21",), ("25",), ("32A",)],
        {
            "20",
            "21",
            "25",
            "25P",
            "13D",
            "32A",
            "50A",
            "50F",
            "50K",
            "52A",
            "52D",
            "56A",
            "56D",
            "72",
        },
    ),
    "199": ([("20",), ("79",)], {"20", "21", "79"}),
}
SUPPORTED = frozenset(_RULES)


# Compiled here, not looked up in re's cache on every amount (32A is read per message).
_DECIMAL_COMMA = re.compile(r"\d+,\d*")


def parse_amount(text: str) -> Decimal:
    """SWIFT decimal comma: ``1234,5`` -> 1234.5; exactly one comma is required."""
    if text.count(",") != 1 or not _DECIMAL_COMMA.fullmatch(text):
        raise ValueError(f"amount {text!r} must be digits with exactly one decimal comma")
    whole, frac = text.split(",")
    return Decimal(f"{whole}.{frac or '0'}")


def format_amount(value: Decimal) -> str:
    text = format(value, "f")
    if "." in text:
        whole, frac = text.split(".")
        frac = frac.rstrip("0")
    else:
        whole, frac = text, ""
    return f"{whole},{frac}"


def field_errors(message: MtMessage, *, strict_charset: bool = True) -> list[FieldError]:
    """Every rule ``message`` breaks, each with its line number."""
    errors: list[FieldError] = []
    mt = message.mt_type
    if mt is None or mt[:3] not in _RULES:
        return [FieldError(f"line {message.first_line}", f"unsupported message type MT{mt}")]
    mandatory, allowed = _RULES[mt]
    header = message.basic_header
    if header is not None and not _BASIC_HEADER.fullmatch(header):
        errors.append(
            FieldError(
                f"line {message.first_line}",
                f"block 1 {header[:25]!r} must be 'F01' + a 12-character LT address"
                " + session and sequence numbers",
            )
        )
    tags = {f.tag for f in message.fields}
    for group in mandatory:
        if not tags.intersection(group):
            errors.append(
                FieldError(f"line {message.first_line}", f"MT{mt} requires field :{group[0]}:")
            )
    for f in message.fields:
        error = _check_field(mt, f, allowed, strict_charset)
        if error is not None:
            errors.append(error)
    return errors


_AMOUNT_TAGS = frozenset({"32A", "33B", "71F", "71G", "60F", "60M", "62F", "62M", "64", "65"})
_X_SET_MATCH = X_SET.match


def _check_field(mt: str, f: MtField, allowed: set[str], strict_charset: bool) -> FieldError | None:
    # The hot path (a valid field) builds no strings: ``where`` only on an error.
    tag, value = f.tag, f.value
    if tag not in allowed:
        return FieldError(f"line {f.line}", f"field :{tag}: is not allowed in MT{mt}")
    if strict_charset and tag != "77T" and not _X_SET_MATCH(value):
        bad = sorted({c for c in value if not re.match(f"[{X_CHARS}\n]", c)})
        return FieldError(f"line {f.line}", f":{tag}: has characters outside SWIFT set X: {bad!r}")
    pattern = _COMPILED.get(tag)
    if pattern is not None and not pattern.match(value):
        return FieldError(f"line {f.line}", _format_reason(tag, value))
    if tag in _AMOUNT_TAGS:
        raw = value[-15:] if tag != "32A" else value[9:]
        amount = re.sub(r"^[A-Z]*\d{6}[A-Z]{3}|^[A-Z]{3}", "", value) if tag != "32A" else raw
        if amount.count(",") != 1:
            return FieldError(f"line {f.line}", f":{tag}: amount needs exactly one decimal comma")
    if (tag == "20" or tag == "21") and (
        value.startswith("/") or value.endswith("/") or "//" in value
    ):
        return FieldError(
            f"line {f.line}", f":{tag}: must not start or end with '/' nor contain '//'"
        )
    return None


def _format_reason(tag: str, value: str) -> str:
    shape = _SHAPES.get(tag)
    if shape is not None:
        count, width = shape
        rows = value.split("\n")
        if len(rows) > count:
            return f":{tag}: has {len(rows)} lines, at most {count} allowed"
        for i, row in enumerate(rows, start=1):
            if len(row) > width:
                return f":{tag}: line {i} has {len(row)} characters, at most {width} allowed"
    return f":{tag}: does not match its format"


# A value line that would read back as a new field or as the end of block 4.
_FRAMING_LINE = re.compile(r"^(?::\d{2}[A-Z]?:|-})", re.M)


def validate_written(message: MtMessage, text: str) -> None:
    """Validate a message this gateway just wrote (``text = write_mt(message)``) without
    reading it back: its fields are checked as built, plus that no value line would split
    the text differently when read. Only when something is wrong is ``text`` parsed, so
    the error names lines of the written message."""
    if not field_errors(message) and not any(_FRAMING_LINE.search(f.value) for f in message.fields):
        return
    validate_mt(parse_mt_file(text)[0])
    raise MtSyntaxError(
        f"MT{message.mt_type} as written does not read back as built",
        [FieldError(f"line {message.first_line}", "a field value line reads as a field tag")],
    )


def validate_mt(message: MtMessage, *, strict_charset: bool = True) -> None:
    errors = field_errors(message, strict_charset=strict_charset)
    if errors:
        raise MtSyntaxError(
            f"MT{message.mt_type} breaks {len(errors)} rule(s): {errors[0].reason}", errors
        )
