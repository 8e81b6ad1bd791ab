"""A message the gateway writes is validated as built, without reading it back; the
result must be what reading it back and validating would say."""

from __future__ import annotations

import pytest

from paygate.errors import MtSyntaxError
from paygate.messages.mt.blocks import MtField, MtMessage, parse_mt_file, write_mt
from paygate.messages.mt.rules import validate_mt, validate_written


def _message(*fields: tuple[str, str]) -> MtMessage:
    return MtMessage(
        fields=[MtField(tag, value, 0) for tag, value in fields],
        basic_header="F01COBADEFFAXXX0000000000",
        app_header="I103BNPAFRPPAXXXN",
        user_header={"121": "6c0a0a36-8f2f-4b1e-9d7a-2a6f3f0c1e11"},
    )


GOOD = [
    ("20", "REF1"),
    ("23B", "CRED"),
    ("32A", "240506EUR1,"),
    ("50K", "/DE89370400440532013000\nALPHA GMBH\n-"),  # a lone '-' line reads back fine
    ("59", "/FR1420041010050500013M02606\nBETA SARL"),
    ("71A", "SHA"),
]


def _read_back(message: MtMessage) -> str | None:
    try:
        validate_mt(parse_mt_file(write_mt(message))[0])
    except MtSyntaxError as exc:
        return str(exc)
    return None


def test_a_valid_message_passes_both_ways() -> None:
    message = _message(*GOOD)
    assert _read_back(message) is None
    validate_written(message, write_mt(message))


@pytest.mark.parametrize(
    "fields",
    [
        [*GOOD[:5], ("71A", "XXX")],  # a field breaking its format
        [f for f in GOOD if f[0] != "59"],  # a mandatory field missing
        [*GOOD[:4], ("59", "/FR1420041010050500013M02606\nBETA SARL\n:70:INJECTED")],
        [*GOOD[:4], ("59", "BETA SARL\n-}{5:{CHK:ABC}}")],
    ],
)
def test_what_reading_back_refuses_is_refused(fields: list[tuple[str, str]]) -> None:
    message = _message(*fields)
    with pytest.raises(MtSyntaxError):
        validate_written(message, write_mt(message))


def test_a_value_line_that_reads_as_a_tag_is_refused_even_when_the_result_is_valid() -> None:
    # Reading back would see a well-formed :70: field and accept it: the written text no
    # longer carries what was built, so it is refused.
    message = _message(
        *GOOD[:4], ("59", "/FR1420041010050500013M02606\nBETA\n:70:PAID"), ("71A", "SHA")
    )
    assert _read_back(message) is None
    with pytest.raises(MtSyntaxError, match="does not read back as built"):
        validate_written(message, write_mt(message))
