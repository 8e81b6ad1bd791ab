from __future__ import annotations

import time

import pytest

from paygate.errors import MessageError, UnsafeXml
from paygate.messages.xml_safety import parse_xml
from paygate.messages.xsd import read_iso

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<lolz>&lol3;</lolz>"""

QUADRATIC = (
    b'<?xml version="1.0"?><!DOCTYPE q [<!ENTITY a "'
    + b"x" * 100_000
    + b'">]><q>'
    + b"&a;" * 10_000
    + b"</q>"
)
XXE_FILE = (
    b"""<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>"""
)
XXE_HTTP = (
    b"""<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "http://127.0.0.1:9/x">]><d>&x;</d>"""
)
EXTERNAL_DTD = b"""<?xml version="1.0"?><!DOCTYPE d SYSTEM "http://127.0.0.1:9/evil.dtd"><d/>"""
UTF16_DOCTYPE = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE d [<!ENTITY x "y">]><d>&x;</d>'


@pytest.mark.parametrize(
    "payload",
    [BILLION_LAUGHS, QUADRATIC, XXE_FILE, XXE_HTTP, EXTERNAL_DTD, UTF16_DOCTYPE.encode("utf-16")],
    ids=["billion-laughs", "quadratic", "xxe-file", "xxe-http", "external-dtd", "utf16-doctype"],
)
def test_hostile_documents_are_refused(payload: bytes) -> None:
    with pytest.raises(UnsafeXml, match="DOCTYPE"):
        parse_xml(payload)


def test_fifty_megabytes_is_refused_before_parsing() -> None:
    body = b"<a>" + b"x" * (50 * 1024 * 1024) + b"</a>"
    started = time.perf_counter()
    with pytest.raises(UnsafeXml, match="exceeds"):
        parse_xml(body)
    assert time.perf_counter() - started < 1.0


def test_ten_thousand_levels_are_refused() -> None:
    with pytest.raises(UnsafeXml, match=r"deep|nesting"):
        parse_xml(b"<a>" * 10_000 + b"</a>" * 10_000)


def test_nesting_just_over_our_limit_is_refused_but_under_is_fine() -> None:
    assert parse_xml(b"<a>" * 60 + b"</a>" * 60).tag == "a"
    with pytest.raises(UnsafeXml):
        parse_xml(b"<a>" * 70 + b"</a>" * 70)


def test_garbage_raises_a_message_error() -> None:
    with pytest.raises(MessageError):
        parse_xml(b"\x00\xff not xml")


def test_non_iso_root_is_unsupported() -> None:
    with pytest.raises(MessageError, match="no ISO 20022 Document"):
        read_iso(b"<Document xmlns='urn:example'/>")
