"""XSD registry and envelope handling for ISO 20022 documents.

Each schema is compiled once with lxml, lazily, keyed by its target namespace; the
message version is read from the namespace (``urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08``),
never from labels such as ``MsgDefIdr``. lxml answers "valid or not" fast; only when a
document is invalid is xmlschema (with ``defuse='always'`` and ``allow='none'``) asked
for precise element paths, since it is about 30 times slower.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from lxml import etree

from paygate.errors import FieldError, SchemaInvalid, UnsupportedMessage
from paygate.messages.xml_safety import parse_xml

ISO_PREFIX = "urn:iso:std:iso:20022:tech:xsd:"
_VARIANT = re.compile(r"/([a-z]{4}\.\d{3}\.\d{3}\.\d{2})\.[a-z]{2}\.\d{2}\.xsd$")
_MSG_ID = re.compile(r"^([a-z]{4})\.(\d{3})\.(\d{3})\.(\d{2})$")
SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas" / "iso20022"


def namespace_of(element: etree._Element) -> str:
    return etree.QName(element).namespace or ""


def message_id(namespace: str) -> str:
    """``pacs.008.001.08`` for the pacs.008.001.08 namespace; ``UnsupportedMessage`` otherwise."""
    if not namespace.startswith(ISO_PREFIX):
        # National variants (e.g. SIX ".../pain.002.001.03.ch.02.xsd") name the base message.
        variant = _VARIANT.search(namespace)
        if variant and namespace.startswith("http"):
            return variant.group(1)
        raise UnsupportedMessage(f"not an ISO 20022 namespace: {namespace!r}")
    ident = namespace[len(ISO_PREFIX) :]
    if not _MSG_ID.match(ident):
        raise UnsupportedMessage(f"cannot read a message version from {namespace!r}")
    return ident


def message_kind(ident: str) -> str:
    """``pacs.008`` for ``pacs.008.001.08``."""
    return ident[:8]


@dataclass(frozen=True)
class IsoDocument:
    """An ISO 20022 ``Document`` found inside whatever wrapper carried it."""

    document: etree._Element
    app_hdr: etree._Element | None
    message_id: str  # e.g. pacs.008.001.08, read from the Document namespace

    @property
    def kind(self) -> str:
        return message_kind(self.message_id)

    @property
    def namespace(self) -> str:
        return ISO_PREFIX + self.message_id

    @property
    def body(self) -> etree._Element:
        """The message element under ``Document`` (e.g. ``FIToFICstmrCdtTrf``)."""
        for child in self.document:
            if isinstance(child.tag, str):
                return child
        raise SchemaInvalid("Document has no message element", [FieldError("/Document", "empty")])


def _is_iso(element: etree._Element, local: str) -> bool:
    if not isinstance(element.tag, str):
        return False
    qname = etree.QName(element)
    ns = qname.namespace or ""
    return qname.localname == local and (ns.startswith(ISO_PREFIX) or bool(_VARIANT.search(ns)))


def unwrap(root: etree._Element) -> IsoDocument:
    """Find ``Document`` (and ``AppHdr``) under a bare root, ``Envelope``, ``RequestPayload``,
    ``DataPDU`` or any other wrapper, prefixed or default namespace."""
    if _is_iso(root, "Document"):
        document = root
        app_hdr = None
    else:
        document = next((e for e in root.iter("{*}Document") if _is_iso(e, "Document")), None)
        if document is None:
            raise UnsupportedMessage(
                f"no ISO 20022 Document found under <{etree.QName(root).localname}>"
            )
        app_hdr = next((e for e in root.iter("{*}AppHdr") if _is_iso(e, "AppHdr")), None)
    return IsoDocument(document, app_hdr, message_id(namespace_of(document)))


def read_iso(data: bytes) -> IsoDocument:
    """Safely parse bytes and unwrap the ISO 20022 document."""
    return unwrap(parse_xml(data))


class SchemaRegistry:
    """Schemas compiled on first use and reused; safe to share between threads."""

    def __init__(self, directory: Path = SCHEMA_DIR) -> None:
        self._directory = directory
        self._lxml: dict[str, etree.XMLSchema] = {}
        self._precise: dict[str, Any] = {}
        self._lock = threading.Lock()

    def available(self) -> list[str]:
        return sorted(p.stem for p in self._directory.glob("*.xsd"))

    def _path(self, ident: str) -> Path:
        path = self._directory / f"{ident}.xsd"
        if not path.is_file():
            raise UnsupportedMessage(f"no XSD for {ident} in {self._directory.name}/")
        return path

    def schema(self, ident: str) -> etree.XMLSchema:
        schema = self._lxml.get(ident)
        if schema is None:
            with self._lock:
                schema = self._lxml.get(ident)
                if schema is None:
                    # Our own files, but still parsed with the hardened parser.
                    xsd_root = parse_xml(self._path(ident).read_bytes())
                    schema = etree.XMLSchema(xsd_root)
                    self._lxml[ident] = schema
        return schema

    def _precise_schema(self, ident: str) -> Any:
        import xmlschema  # only on the error path: slow to import and to compile

        schema = self._precise.get(ident)
        if schema is None:
            with self._lock:
                # The ISO XSDs import nothing, so the text alone is enough and no
                # resource access of any kind is allowed.
                schema = xmlschema.XMLSchema(
                    self._path(ident).read_text(encoding="utf-8"), defuse="always", allow="none"
                )
                self._precise[ident] = schema
        return schema

    def has(self, ident: str) -> bool:
        return (self._directory / f"{ident}.xsd").is_file()

    def validate(self, doc: IsoDocument | etree._Element) -> None:
        """Raise ``SchemaInvalid`` listing each violation with its element path."""
        iso = doc if isinstance(doc, IsoDocument) else unwrap(doc)
        schema = self.schema(iso.message_id)
        if schema.validate(iso.document):
            return
        errors = self._explain(iso)
        raise SchemaInvalid(
            f"{iso.message_id} does not validate against its XSD: {errors[0].reason}", errors
        )

    def _explain(self, iso: IsoDocument) -> list[FieldError]:
        import xmlschema

        text = etree.tostring(iso.document)
        try:
            resource = xmlschema.XMLResource(text, defuse="always", allow="none")
            found = [
                FieldError(_clean_path(err.path or ""), _reason(err))
                for err in self._precise_schema(iso.message_id).iter_errors(resource)
            ]
        except (xmlschema.XMLSchemaException, ValueError) as exc:
            found = [FieldError("/Document", f"could not explain: {exc}")]
        if not found:  # xmlschema and libxml2 disagree: report libxml2's view
            log = self.schema(iso.message_id).error_log
            found = [FieldError(f"line {e.line}", e.message) for e in log]
        return found or [FieldError("/Document", "invalid")]


def _clean_path(path: str) -> str:
    # "/{urn:...}Document/{urn:...}FIToFICstmrCdtTrf" -> "/Document/FIToFICstmrCdtTrf"
    return re.sub(r"\{[^}]*\}|[a-zA-Z0-9]+:(?=[A-Za-z])", "", path) or "/"


def _reason(err: Any) -> str:
    reason = getattr(err, "reason", None) or str(err.message)
    return " ".join(str(reason).split())


@lru_cache(maxsize=1)
def default_registry() -> SchemaRegistry:
    """The registry over ``schemas/iso20022`` (a cache of compiled files, not state)."""
    return SchemaRegistry()


def validate(doc: IsoDocument | etree._Element) -> None:
    default_registry().validate(doc)
