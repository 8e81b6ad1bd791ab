"""Structural checks for ISO 20022 messages whose official XSD paygate does not hold.

pacs.004, pacs.009 (and pacs.002, pacs.028) have no official XSD obtainable from PyPI
(schemas/README.md). Their builders therefore check the mandatory elements and the
lengths the model cannot guarantee, and validate against the XSD as soon as
``schemas/iso20022/<id>.xsd`` exists.
"""

from __future__ import annotations

from collections.abc import Iterable

from lxml import etree

from paygate.errors import FieldError, SchemaInvalid
from paygate.messages.xsd import IsoDocument, default_registry


def require(
    element: etree._Element, ns: str, where: str, paths: Iterable[str], errors: list[FieldError]
) -> None:
    """Append an error for each ``a/b/c`` path with no non-empty element under ``element``."""
    prefix = "{" + ns + "}"
    for path in paths:
        node: etree._Element | None = element
        for step in path.split("/"):
            node = None if node is None else node.find(prefix + step)
        if node is None or (len(node) == 0 and not (node.text or "").strip()):
            errors.append(FieldError(f"{where}/{path}", "required element missing"))


def max_length(
    element: etree._Element, ns: str, where: str, limits: dict[str, int], errors: list[FieldError]
) -> None:
    """Text length limits (e.g. Max35Text) for local element names anywhere below."""
    for node in element.iter():
        if not isinstance(node.tag, str) or node.text is None:
            continue
        local = node.tag[len(ns) + 2 :] if node.tag.startswith("{" + ns) else node.tag
        limit = limits.get(local)
        if limit is not None and len(node.text) > limit:
            errors.append(FieldError(f"{where}//{local}", f"longer than {limit} characters"))


def finish(doc: etree._Element, message_id: str, errors: list[FieldError]) -> None:
    """Raise the structural errors; else validate by XSD when the registry has one."""
    if errors:
        raise SchemaInvalid(
            f"{message_id} is structurally invalid: {errors[0].pointer} {errors[0].reason}",
            errors,
        )
    registry = default_registry()
    if registry.has(message_id):
        registry.validate(IsoDocument(doc, None, message_id))


MAX_TEXT = {
    "MsgId": 35,
    "InstrId": 35,
    "EndToEndId": 35,
    "TxId": 35,
    "RtrId": 35,
    "OrgnlMsgId": 35,
    "OrgnlInstrId": 35,
    "OrgnlEndToEndId": 35,
    "OrgnlTxId": 35,
    "Nm": 140,
    "AdrLine": 70,
    "InstrInf": 140,
    "AddtlInf": 105,
    "Ustrd": 140,
}
