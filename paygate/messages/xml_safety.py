"""Hardened XML parsing: the only way paygate turns untrusted bytes into an lxml tree.

Threats covered: entity expansion (billion laughs, quadratic blowup), XXE to files or
URLs, external DTDs, oversized bodies and deep nesting. Any DOCTYPE is refused outright,
because ISO 20022 messages never carry one, so there is no legitimate reason to look
inside it.
"""

from __future__ import annotations

from lxml import etree

from paygate.errors import MessageError, UnsafeXml

MAX_BYTES = 20 * 1024 * 1024
# libxml2 refuses more than 256 levels without huge_tree; ISO 20022 needs about 15.
MAX_DEPTH = 64

_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
    strip_cdata=False,
)


class XmlNotWellFormed(MessageError):
    """The bytes are not well-formed XML (not a security issue, just unreadable)."""


def _depth_probe(limit: int) -> etree.XPath:
    # An XPath evaluated in C: "is there any element deeper than limit?".
    return etree.XPath("boolean(/" + "/".join(["*"] * (limit + 1)) + ")")


_DEFAULT_PROBE = _depth_probe(MAX_DEPTH)


def _depth_exceeds(root: etree._Element, limit: int) -> bool:
    probe = _DEFAULT_PROBE if limit == MAX_DEPTH else _depth_probe(limit)
    return bool(probe(root))


def parse_xml(
    data: bytes, *, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH
) -> etree._Element:
    """Parse ``data`` safely and return the root element.

    Raises ``UnsafeXml`` for DOCTYPEs, entities, size and depth violations and
    ``XmlNotWellFormed`` for anything else libxml2 cannot read.
    """
    if not isinstance(data, bytes | bytearray):
        raise XmlNotWellFormed("XML input must be bytes")
    if len(data) > max_bytes:
        raise UnsafeXml(f"XML body of {len(data)} bytes exceeds the {max_bytes}-byte limit")
    # Cheap pre-scan for the common (UTF-8/ASCII) case: refuse before libxml2 sees it.
    head = bytes(data)
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
        raise UnsafeXml("DOCTYPE and entity declarations are not allowed")
    try:
        root = etree.fromstring(head, _PARSER)
    except etree.XMLSyntaxError as exc:
        message = str(exc)
        if "depth" in message.lower() or "nesting" in message.lower():
            raise UnsafeXml(f"XML nesting too deep: {message}") from None
        raise XmlNotWellFormed(f"XML is not well-formed: {message}") from None
    if root is None:
        raise XmlNotWellFormed("XML document is empty")
    docinfo = root.getroottree().docinfo
    # Other encodings (UTF-16) can hide a DOCTYPE from the byte scan; check after parsing.
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise UnsafeXml("DOCTYPE and entity declarations are not allowed")
    if _depth_exceeds(root, max_depth):
        raise UnsafeXml(f"XML nesting exceeds {max_depth} levels")
    return root
