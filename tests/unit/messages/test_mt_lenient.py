"""Parsing reads what is there; validation reports every rule broken, with line numbers."""

from __future__ import annotations

import pytest

from paygate.errors import MtSyntaxError
from paygate.messages.mt.blocks import parse_mt_file
from paygate.messages.mt.mt199 import read_mt199
from paygate.messages.mt.mt202 import read_mt202
from paygate.messages.mt.rules import field_errors, validate_mt

UETR = "0f5c7c4e-3b7a-4a7e-9c1d-5e2f8a9b6c01"

# Block 1 as some exports write it: the LT address without the "F01" application id.
MT202_NO_F01 = (
    "{1:PAYGDEFFAXXX0000000000}{2:I202BNPAFRPPXXXXN}"
    f"{{3:{{121:{UETR}}}}}{{4:\n"
    ":20:FIREF-77\n:21:REL-77\n:32A:240506EUR5000,\n"
    ":57A:CHASUS33XXX\n:58A:BNPAFRPPXXX\n-}"
)


def _mt199(lines: int) -> str:
    body = "\n".join(f"NARRATIVE LINE {i:02d} OF THE FREE FORMAT TEXT" for i in range(lines))
    return (
        "{1:F01PAYGDEFFAXXX0000000000}{2:I199BNPAFRPPXXXXN}{4:\n"
        f":20:FREE-1\n:21:NONREF\n:79:{body}\n-}}"
    )


def test_block1_without_f01_still_yields_the_sender_bic() -> None:
    [message] = parse_mt_file(MT202_NO_F01)
    assert message.sender_bic == "PAYGDEFF"
    assert message.receiver_bic == "BNPAFRPP"
    mt = read_mt202(message, strict=False)
    assert mt.sender_bic == "PAYGDEFF"
    assert mt.transfer.debtor.bic == "PAYGDEFF"
    assert str(mt.transfer.uetr) == UETR


def test_block1_without_f01_is_still_a_rule_violation_with_its_line() -> None:
    text = "\n\n" + MT202_NO_F01  # the message starts on line 3
    [message] = parse_mt_file(text)
    errors = field_errors(message)
    assert [e.pointer for e in errors] == ["line 3"]
    assert "F01" in errors[0].reason
    with pytest.raises(MtSyntaxError, match="block 1"):
        read_mt202(message)  # strict by default


def test_well_formed_block1_passes_the_header_rule() -> None:
    fixed = MT202_NO_F01.replace("{1:PAYG", "{1:F01PAYG")
    [message] = parse_mt_file(fixed)
    assert field_errors(message) == []
    assert read_mt202(message).sender_bic == "PAYGDEFF"


def test_overlong_field_79_is_read_whole_and_reported_by_validation() -> None:
    [message] = parse_mt_file(_mt199(38))
    mt = read_mt199(message, strict=False)
    assert mt.reference == "FREE-1"
    assert mt.related_reference == "NONREF"
    assert len(mt.narrative.split("\n")) == 38
    assert mt.narrative.endswith("NARRATIVE LINE 37 OF THE FREE FORMAT TEXT")
    errors = field_errors(message)
    assert [e.pointer for e in errors] == ["line 4"]  # the line of :79:
    assert "38 lines, at most 35" in errors[0].reason
    with pytest.raises(MtSyntaxError, match="38 lines"):
        validate_mt(message)
    with pytest.raises(MtSyntaxError):
        read_mt199(message)


def test_field_79_within_35_lines_is_valid() -> None:
    [message] = parse_mt_file(_mt199(35))
    assert field_errors(message) == []
    assert len(read_mt199(message).narrative.split("\n")) == 35


def test_overwide_line_names_its_width() -> None:
    [message] = parse_mt_file(_mt199(2).replace("LINE 01", "LINE 01" + "X" * 30))
    [error] = field_errors(message)
    assert "line 2 has" in error.reason and "at most 50" in error.reason
