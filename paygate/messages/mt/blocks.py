"""FIN block structure: ``{1:}{2:}{3:{121:..}}{4:\\n:20:..\\n-}{5:{CHK:..}}``.

Several messages may follow each other in one file, with LF or CRLF line ends.
Exports without headers (bare ``:20:...`` text separated by ``-`` lines, as many
banks produce MT940 files) are read as block-4-only messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

from paygate.errors import FieldError, MtSyntaxError

_FIELD_START = re.compile(r"^:(\d{2}[A-Z]?):(.*)$")
_TAG_LINE = re.compile(r"^:(\d{2}[A-Z]?):", re.M)
# One plain FIN message, the common case: blocks 1, 2, 3 without nesting, then "{4:\n".
_SIMPLE_HEAD = re.compile(
    r"\{1:([^{}]*)\}(?:\{2:([^{}]*)\})?(?:\{3:((?:\{[A-Za-z0-9]{3}:[^{}]*\})*)\})?\{4:\n"
)
_SIMPLE_TAIL = re.compile(r"(?:\{5:((?:\{[A-Za-z0-9]{3}:[^{}]*\})*)\})?\s*")
_SUB_BLOCK = re.compile(r"\{([A-Za-z0-9]{3}):([^{}]*)\}")
_BLOCK = re.compile(r"\{([1-5S]):")
# Block 1: application id (F, A, L), service id (2 digits), 12-character LT address.
_BASIC_PREFIX = re.compile(r"[FAL]\d{2}")
_LT_ADDRESS = re.compile(r"[A-Z]{6}[A-Z0-9]{2}[A-Z0-9][A-Z0-9]{3}")
MAX_MESSAGE_BYTES = 1_000_000


class MtField(NamedTuple):
    """One block-4 field, immutable (a named tuple: about half the cost of a frozen
    dataclass to create, and a message is mostly fields)."""

    tag: str  # e.g. "32A"
    value: str  # lines joined with "\n"
    line: int  # 1-based line of the tag in the input

    @property
    def number(self) -> str:
        return self.tag[:2]

    @property
    def option(self) -> str:
        return self.tag[2:]


@dataclass
class MtMessage:
    fields: list[MtField]
    basic_header: str | None = None  # block 1 content, e.g. F01BANKBEBBAXXX0000000000
    app_header: str | None = None  # block 2 content, e.g. I103BANKDEFFXXXXN
    user_header: dict[str, str] = field(default_factory=dict)
    trailer: dict[str, str] = field(default_factory=dict)
    first_line: int = 1
    mt_hint: str | None = None  # type given outside block 2 (headerless exports)

    @property
    def mt_type(self) -> str | None:
        if self.app_header and len(self.app_header) >= 4:
            return self.app_header[1:4]
        return self.mt_hint

    @property
    def is_output(self) -> bool:
        return bool(self.app_header) and self.app_header.startswith("O")  # type: ignore[union-attr]

    @property
    def sender_bic(self) -> str | None:
        if self.is_output and self.app_header and len(self.app_header) >= 30:
            return _lt_to_bic(self.app_header[14:26])
        lt = basic_lt(self.basic_header)
        return _lt_to_bic(lt) if lt else None

    @property
    def receiver_bic(self) -> str | None:
        if self.is_output and (lt := basic_lt(self.basic_header)):
            return _lt_to_bic(lt)
        if self.app_header and not self.is_output and len(self.app_header) >= 16:
            return _lt_to_bic(self.app_header[4:16])
        return None

    def get(self, *tags: str) -> MtField | None:
        for f in self.fields:
            if f.tag in tags:
                return f
        return None

    def all(self, *tags: str) -> list[MtField]:
        return [f for f in self.fields if f.tag in tags]

    def option_of(self, number: str) -> MtField | None:
        """The first field ``number`` with any option letter (``50`` finds 50A/50F/50K)."""
        for f in self.fields:
            if f.tag[:2] == number:  # f.number, without the property call (hot path)
                return f
        return None


def basic_lt(header: str | None) -> str | None:
    """The LT address of block 1, read leniently: after ``F01`` (the FIN form), or at the
    start when an export dropped the application and service ids but kept a 12-character
    LT address. Whether block 1 is well formed is ``validate_mt``'s question, not this one."""
    if not header:
        return None
    if _BASIC_PREFIX.match(header) and len(header) >= 15:
        return header[3:15]
    if len(header) >= 12 and _LT_ADDRESS.match(header):
        return header[:12]
    return None


def _lt_to_bic(lt: str) -> str:
    # A 12-character LT address is BIC8 + terminal code + branch.
    bic = lt[:8] + lt[9:12]
    return bic[:8] if bic.endswith("XXX") else bic


def parse_mt_file(text: str) -> list[MtMessage]:
    """Split ``text`` into messages and read their blocks and block-4 fields."""
    if len(text) * 4 > 50 * MAX_MESSAGE_BYTES and (
        len(text.encode("utf-8", "surrogatepass")) > 50 * MAX_MESSAGE_BYTES
    ):
        raise MtSyntaxError("MT file too large", [FieldError("line 1", "over 50 MB")])
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    simple = _parse_simple(text) if text.startswith("{1:") else None
    if simple is not None:
        return [simple]
    enveloped = "{1:" in text or "{4:" in text
    messages = _parse_enveloped(text) if enveloped else _parse_headerless(text)
    if not messages:
        raise MtSyntaxError("no SWIFT MT message found", [FieldError("line 1", "no message")])
    return messages


def single_message(text: str, mt: str, hint: str) -> MtMessage:
    """The one message of ``text`` (an MT``mt``); ``hint`` says what to do with several."""
    messages = parse_mt_file(text)
    if len(messages) != 1:
        raise MtSyntaxError(
            f"expected one MT{mt}, found {len(messages)} messages", [FieldError("line 1", hint)]
        )
    return messages[0]


def _parse_simple(text: str) -> MtMessage | None:
    """One message laid out the plain way, read without the general block loop; None
    for anything else (several messages, nested or stray braces, service blocks), which
    ``_parse_enveloped`` then reads with the same result it would have given."""
    head = _SIMPLE_HEAD.match(text)
    if head is None:
        return None
    start = head.end() - 1  # at the newline after "{4:"
    end = text.find("\n-}", start)
    if end < 0 or text.find("{", start, end) >= 0 or text.find("}", start, end) >= 0:
        return None
    tail = _SIMPLE_TAIL.fullmatch(text, end + 3)
    if tail is None:
        return None
    fields = _parse_fields(text[start:end].lstrip("\n"), text.count("\n", 0, start) + 2)
    if not fields:
        return None
    basic, app, user = head.groups()
    return MtMessage(
        fields=fields,
        basic_header=basic.strip(),
        app_header=app.strip() if app is not None else None,
        user_header=dict(_SUB_BLOCK.findall(user)) if user is not None else {},
        trailer=dict(_SUB_BLOCK.findall(tail.group(1))) if tail.group(1) is not None else {},
    )


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _parse_enveloped(text: str) -> list[MtMessage]:
    messages: list[MtMessage] = []
    pos = 0
    current: MtMessage | None = None
    while True:
        match = _BLOCK.search(text, pos)
        if match is None:
            break
        # Stray closing braces between blocks are a common export artefact; tolerate them.
        gap = text[pos : match.start()].strip().strip("}").strip()
        if gap:
            raise MtSyntaxError(
                "text outside blocks",
                [FieldError(f"line {_line_of(text, pos)}", f"unexpected {gap[:20]!r}")],
            )
        block = match.group(1)
        start = match.end()
        line = _line_of(text, match.start())
        if block == "1" or current is None:
            current = MtMessage(fields=[], first_line=line)
            messages.append(current)
        if block == "4" and text[start : start + 1] == "{":
            # Service (ACK/NAK) block 4 made of sub-blocks: not a business message.
            end = _matching_brace(text, match.start(), line)
            current.user_header.setdefault("ACK", text[start:end])
            pos = end + 1
            current = None
            messages.pop()
            continue
        if block in "1235S":
            end = _matching_brace(text, match.start(), line)
            content = text[start:end]
            if block == "1":
                current.basic_header = content.strip()
            elif block == "2":
                current.app_header = content.strip()
            elif block == "3":
                current.user_header = dict(_SUB_BLOCK.findall(content))
            else:
                current.trailer.update(_SUB_BLOCK.findall(content))
            pos = end + 1
        else:
            end = text.find("\n-}", start)
            if end < 0:
                last = text.rstrip().rfind("}")
                if last <= start or _BLOCK.search(text, start):
                    raise MtSyntaxError(
                        "block 4 not terminated by '-}'",
                        [FieldError(f"line {line}", "missing '-}' after block 4")],
                    )
                end = last  # "...last line}" at end of file: terminator without the dash
            body = text[start:end]
            first = line + (1 if body.startswith("\n") else 0)
            current.fields = _parse_fields(body.lstrip("\n"), first)
            pos = end + (3 if text.startswith("\n-}", end) else 1)
    # Whatever follows the last block (a stray "}", a file trailer) belongs to no message.
    for message in messages:
        if not message.fields:
            raise MtSyntaxError(
                "message without block 4", [FieldError(f"line {message.first_line}", "no fields")]
            )
    return messages


def _matching_brace(text: str, start: int, line: int) -> int:
    # str.find in C instead of a per-character loop: blocks 1, 2 and 5 have few braces.
    depth = 0
    limit = min(len(text), start + 10_000)
    i = start
    while True:
        close = text.find("}", i, limit)
        if close < 0:
            depth += text.count("{", i, limit)
            break
        opening = text.find("{", i, close)
        if opening >= 0:
            depth += 1
            i = opening + 1
            continue
        depth -= 1
        if depth == 0:
            return close
        i = close + 1
    if limit == len(text) and depth == 1:
        return len(text)  # last block left open at end of file
    raise MtSyntaxError("unbalanced braces", [FieldError(f"line {line}", "block not closed")])


def _parse_fields(body: str, first_line: int) -> list[MtField]:
    # One regex split at the tag lines (":20:" at a line start) instead of a Python loop
    # over every line or over match objects: the parts alternate text before the first
    # tag, then tag and value. A value keeps the newline that ends it; dropping that one
    # character gives the value, and counting its newlines gives the next tag's line.
    parts = _TAG_LINE.split(body)
    head = parts[0]
    if head.strip():
        for offset, raw in enumerate(head.split("\n")):
            if raw.strip():
                raise MtSyntaxError(
                    "block 4 must start with a field tag",
                    [FieldError(f"line {first_line + offset}", f"unexpected {raw[:20]!r}")],
                )
    line = first_line + head.count("\n")
    last = len(parts) - 2
    fields: list[MtField] = []
    append = fields.append
    for i in range(1, len(parts), 2):
        raw_value = parts[i + 1]
        value = raw_value[:-1] if i < last else raw_value.rstrip("\n")
        append(MtField(parts[i], value, line))
        line += raw_value.count("\n")
    return fields


def _parse_headerless(text: str) -> list[MtMessage]:
    messages: list[MtMessage] = []
    chunk: list[str] = []
    chunk_start = 1
    preamble: list[str] = []
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.rstrip()
        if line in ("-", "-}"):
            _flush(messages, chunk, chunk_start, preamble)
            chunk, preamble = [], []
            continue
        if not chunk and not _FIELD_START.match(line):
            if line:
                preamble.append(line)  # e.g. "ABNANL2A" / "940" lines some exports carry
            continue
        if not chunk:
            chunk_start = number
        chunk.append(line)
    _flush(messages, chunk, chunk_start, preamble)
    return messages


def _flush(messages: list[MtMessage], chunk: list[str], start: int, preamble: list[str]) -> None:
    if not chunk:
        return
    fields = _parse_fields("\n".join(chunk), start)
    hint = next((p.strip(":") for p in preamble if re.fullmatch(r":?\d{3}:?", p)), None)
    # Several statements may be concatenated without "-": split on each new :20:.
    current: list[MtField] = []
    for f in fields:
        if f.tag == "20" and current:
            messages.append(MtMessage(fields=current, first_line=current[0].line, mt_hint=hint))
            current = []
        current.append(f)
    if current:
        messages.append(MtMessage(fields=current, first_line=current[0].line, mt_hint=hint))


def write_mt(message: MtMessage, *, newline: str = "\r\n") -> str:
    """Serialize one message; FIN uses CRLF inside block 4."""
    parts = []
    if message.basic_header:
        parts.append("{1:" + message.basic_header + "}")
    if message.app_header:
        parts.append("{2:" + message.app_header + "}")
    if message.user_header:
        parts.append("{3:" + "".join(f"{{{k}:{v}}}" for k, v in message.user_header.items()) + "}")
    body = "".join(f"{newline}:{f.tag}:{f.value.replace(chr(10), newline)}" for f in message.fields)
    parts.append("{4:" + body + newline + "-}")
    if message.trailer:
        parts.append("{5:" + "".join(f"{{{k}:{v}}}" for k, v in message.trailer.items()) + "}")
    return "".join(parts)
