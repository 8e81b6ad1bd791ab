"""Minimal SWIFT FIN codec: MT103 in (syntax-checked), MT199 gpi-style status out."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from simulators.rail import Instruction
from simulators.tariff import minor_units

_CHARSET_X = re.compile(r"^[A-Za-z0-9/\-?:().,'+ \r\n]*$")
_NOT_X = re.compile(r"[^A-Za-z0-9/\-?:().,'+ ]")


def to_x(text: str) -> str:
    """SWIFT X character set only; anything else becomes '.'."""
    return _NOT_X.sub(".", text)


_UETR = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
_FIELD = re.compile(r"^:(\d{2}[A-Z]?):", re.M)
_32A = re.compile(r"^(\d{6})([A-Z]{3})(\d[\d,]*)$")
_BLOCK1 = re.compile(r"^F01[A-Z0-9]{12}\d{10}$")
_BLOCK2_103 = re.compile(r"^[IO]103")
# Line limits (lines x 35x) of the free-text fields this rail reads.
_MAX_LINES = {"50K": 5, "50F": 5, "50A": 2, "59": 5, "59A": 2, "59F": 5, "70": 4, "72": 6}
_MANDATORY = (("20",), ("23B",), ("32A",), ("50A", "50F", "50K"), ("59", "59A", "59F"), ("71A",))


class MtFormatError(ValueError):
    """MT syntax error (answered RJCT/FF01); carries the UETR when one could be read."""

    def __init__(self, detail: str, uetr: str | None = None, reference: str | None = None):
        super().__init__(detail)
        self.detail = detail
        self.uetr = uetr
        self.reference = reference


@dataclass
class Mt103:
    reference: str
    uetr: str
    value_date: date
    charges: str
    instruction: Instruction


def split_blocks(text: str) -> dict[str, str]:
    """Blocks {n:...}; block 4 runs to the CRLF '-}' terminator, others to the matching brace."""
    blocks: dict[str, str] = {}
    i = 0
    text = text.strip()
    while i < len(text):
        if text[i] != "{":
            raise MtFormatError(f"unexpected character at {i} outside blocks")
        colon = text.find(":", i)
        if colon < 0:
            raise MtFormatError("block without ':'")
        name = text[i + 1 : colon]
        if name == "4":
            end = text.find("\n-}", colon)
            if end < 0:
                raise MtFormatError("block 4 not terminated by '-}' on its own line")
            blocks[name] = text[colon + 1 : end].rstrip("\r").replace("\r\n", "\n").strip("\n")
            i = end + 3
            continue
        depth, j = 0, i
        while j < len(text):
            if text[j] == "{":
                depth += 1
            elif text[j] == "}":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        if depth != 0:
            raise MtFormatError(f"block {name} not closed")
        blocks[name] = text[colon + 1 : j]
        i = j + 1
    return blocks


def parse_fields(block4: str) -> list[tuple[str, str]]:
    matches = list(_FIELD.finditer(block4))
    if not matches or matches[0].start() != 0:
        raise MtFormatError("block 4 must start with a field tag")
    fields = []
    for n, m in enumerate(matches):
        end = matches[n + 1].start() if n + 1 < len(matches) else len(block4)
        fields.append((m.group(1), block4[m.end() : end].rstrip("\n")))
    return fields


def _party(value: str) -> tuple[str, str]:
    """(account, first name line) of 50K / 59 style fields."""
    lines = value.split("\n")
    account = ""
    if lines and lines[0].startswith("/"):
        account = lines.pop(0)[1:]
    name = lines[0] if lines else ""
    if name[:2].isdigit() and name[1:2] == "/":  # 50F/59F numbered lines like 1/NAME
        name = name[2:]
    return account, name


def parse_mt103(text: str) -> Mt103:
    blocks = split_blocks(text)
    b3 = blocks.get("3", "")
    tags3 = dict(re.findall(r"\{(\d{3}):([^}]*)\}", b3))
    uetr = tags3.get("121")
    fields: list[tuple[str, str]] = []
    ref: str | None = None
    if "4" in blocks:
        try:
            fields = parse_fields(blocks["4"])
            ref = dict(fields).get("20")
        except MtFormatError:
            fields = []

    def fail(detail: str) -> MtFormatError:
        return MtFormatError(detail, uetr if uetr and _UETR.match(uetr) else None, ref)

    for needed in ("1", "2", "4"):
        if needed not in blocks:
            raise fail(f"block {needed} missing")
    if not _BLOCK1.match(blocks["1"]):
        raise fail("block 1 is not F01 + 12-character LT address + session/sequence")
    if not _BLOCK2_103.match(blocks["2"]):
        raise fail("block 2 is not an MT103")
    if uetr is None:
        raise fail("block 3 field 121 (UETR) is mandatory")
    if not _UETR.match(uetr):
        raise fail("field 121 is not a lower-case UUID v4")
    if not _CHARSET_X.match(blocks["4"]):
        raise fail("block 4 has characters outside the SWIFT X character set")
    if not fields:
        raise fail("block 4 has no fields")
    by_tag: dict[str, str] = {}
    for tag, value in fields:
        if tag in by_tag:
            raise fail(f"field {tag} repeated")
        by_tag[tag] = value
        lines = value.split("\n")
        if any(len(line) > 35 for line in lines):
            raise fail(f"field {tag}: line longer than 35 characters")
        if len(lines) > _MAX_LINES.get(tag, 1 if tag in ("20", "23B", "32A", "71A") else 6):
            raise fail(f"field {tag}: too many lines")
    for group in _MANDATORY:
        if not any(t in by_tag for t in group):
            raise fail(f"mandatory field {'/'.join(group)} missing")
    ref = by_tag["20"]
    if len(ref) > 16 or not ref or ref.startswith("/") or ref.endswith("/") or "//" in ref:
        raise fail("field 20 must be 1-16x without leading/trailing '/' or '//'")
    if by_tag["23B"] not in ("CRED", "CRTS", "SPAY", "SPRI", "SSTD"):
        raise fail("field 23B: unknown bank operation code")
    m = _32A.match(by_tag["32A"])
    if not m or len(m.group(3)) > 15 or m.group(3).count(",") != 1:
        raise fail("field 32A must be YYMMDD + currency + amount with one decimal comma")
    try:
        value_date = datetime.strptime(m.group(1), "%y%m%d").date()
    except ValueError as exc:
        raise fail("field 32A: invalid date") from exc
    currency = m.group(2)
    whole, _, frac = m.group(3).partition(",")
    if len(frac) > minor_units(currency):
        raise fail("field 32A: more decimals than the currency allows (T43)")
    amount = Decimal(f"{whole}.{frac or '0'}")
    if by_tag["71A"] not in ("BEN", "OUR", "SHA"):
        raise fail("field 71A must be BEN, OUR or SHA")
    debtor_tag = next(t for t in ("50A", "50F", "50K") if t in by_tag)
    creditor_tag = next(t for t in ("59", "59A", "59F") if t in by_tag)
    debtor_account, _ = _party(by_tag[debtor_tag])
    creditor_account, creditor_name = _party(by_tag[creditor_tag])
    roc = re.search(r"/ROC/([^\n/]+)", by_tag.get("70", ""))
    return Mt103(
        reference=ref,
        uetr=uetr,
        value_date=value_date,
        charges=by_tag["71A"],
        instruction=Instruction(
            reference=ref,
            end_to_end_id=roc.group(1) if roc else ref,
            uetr=uetr,
            amount=amount,
            currency=currency,
            debtor_account=debtor_account,
            creditor_account=creditor_account,
            creditor_name=creditor_name,
        ),
    )


def mt_amount(amount: Decimal, currency: str) -> str:
    """Amount with decimal comma, e.g. 1000,50 (JPY 1000,)."""
    places = minor_units(currency)
    text = f"{amount:.{places}f}"
    whole, _, frac = text.partition(".")
    return f"{whole},{frac}"


def build_mt199(
    *,
    our_ref: str,
    related_ref: str,
    uetr: str | None,
    at: datetime,
    status_line: str,
    extra_lines: list[str] | None = None,
    sender: str = "SIMSWIFTXXXX",
) -> str:
    """gpi-style MT199: field 79 = //YYMMDDHHMM+0000, then //ACSC or //RJCT/<code>, ..."""
    when = at.strftime("%y%m%d%H%M")
    lines = [f"//{when}+0000", status_line, *(extra_lines or [])]
    b3 = f"{{3:{{121:{uetr}}}}}" if uetr else ""
    ymd = at.strftime("%y%m%d")
    hm = at.strftime("%H%M")
    head = [f":20:{our_ref[:16]}", f":21:{(related_ref or 'NONREF')[:16]}"]
    body = "\r\n".join([*head, ":79:" + lines[0], *lines[1:]])
    return (
        f"{{1:F01{sender}0000000000}}{{2:O199{hm}{ymd}{sender}00000000000{ymd}{hm}N}}{b3}"
        f"{{4:\r\n{body}\r\n-}}"
    )
