"""The plain one-message layout is read by a shortcut; it must agree with the block loop."""

from __future__ import annotations

import pytest

from paygate.errors import MtSyntaxError
from paygate.messages.mt import blocks

PLAIN = (
    "{1:F01COBADEFFAXXX0000000000}{2:I103BNPAFRPPAXXXN}"
    "{3:{108:MUR1}{121:6c0a0a36-8f2f-4b1e-9d7a-2a6f3f0c1e11}}{4:\n"
    ":20:REF1\n:23B:CRED\n\n:32A:240506EUR1,\n:70:LINE ONE\nLINE TWO\n-}{5:{CHK:ABC}}\n"
)

VARIANTS = [
    PLAIN,
    PLAIN.replace("{5:{CHK:ABC}}", ""),
    PLAIN.replace("{4:\n", "{4:\n\n"),
    PLAIN.replace("{2:I103BNPAFRPPAXXXN}", ""),
    PLAIN.replace("{3:{108:MUR1}{121:6c0a0a36-8f2f-4b1e-9d7a-2a6f3f0c1e11}}", "{3:}"),
    PLAIN.replace("{1:F01COBADEFFAXXX0000000000}", "{1:\nF01COBADEFFAXXX0000000000\n}"),
]


@pytest.mark.parametrize("text", VARIANTS)
def test_shortcut_agrees_with_the_block_loop(text: str) -> None:
    fast = blocks._parse_simple(text)
    assert fast is not None
    assert [fast] == blocks._parse_enveloped(text)
    assert blocks.parse_mt_file(text) == [fast]


@pytest.mark.parametrize(
    "text",
    [
        PLAIN + PLAIN,  # two messages
        PLAIN + "trailing words",
        PLAIN.replace("-}{5:", "-}}{5:"),  # stray brace
        PLAIN.replace(
            "{4:\n:20:REF1\n:23B:CRED\n\n:32A:240506EUR1,\n:70:LINE ONE\nLINE TWO\n", "{4:\n"
        ),
    ],
)
def test_other_layouts_take_the_block_loop(text: str) -> None:
    assert blocks._parse_simple(text) is None


def test_shortcut_reports_text_before_the_first_tag_with_its_line() -> None:
    text = PLAIN.replace("{4:\n:20:", "{4:\nJUNK\n:20:")
    with pytest.raises(MtSyntaxError) as info:
        blocks.parse_mt_file(text)
    assert [e.pointer for e in info.value.errors] == ["line 2"]
