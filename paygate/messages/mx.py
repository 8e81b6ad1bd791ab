"""Small helpers to build and read ISO 20022 elements in one namespace (lxml, no templates)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from lxml import etree
from pydantic import ValidationError

from paygate.domain import field_errors
from paygate.errors import FieldError, SchemaInvalid
from paygate.messages.xsd import ISO_PREFIX

# Per namespace: tag -> "{ns}tag", path -> a prebuilt chain of elements to copy (and its
# depth), skeletons of whole documents, and an empty Document to copy. Shared by every
# Builder (the vocabulary is the schemas' element names and the builders' paths, bounded).
_TAGS: dict[str, dict[str, str]] = {}
_PATHS: dict[str, dict[str, tuple[etree._Element, int]]] = {}
_SKELETONS: dict[tuple[str, tuple[str, ...]], tuple[etree._Element, list[tuple[int, ...]]]] = {}
_DOCUMENTS: dict[str, etree._Element] = {}
_SubElement = etree.SubElement


class Builder:
    """Creates elements in one message namespace, as the default namespace."""

    __slots__ = ("_doc", "_paths", "_prefix", "_tags", "ns")

    def __init__(self, message_id: str) -> None:
        self.ns = ns = ISO_PREFIX + message_id
        self._prefix = "{" + ns + "}"
        tags = _TAGS.get(ns)
        if tags is None:
            tags = _TAGS[ns] = {}
            _PATHS[ns] = {}
            _DOCUMENTS[ns] = etree.Element(self._prefix + "Document", nsmap={None: ns})
        self._tags = tags
        self._paths = _PATHS[ns]
        self._doc = _DOCUMENTS[ns]

    def document(self) -> etree._Element:
        # Copying an empty root is ~5x cheaper than creating one with an nsmap.
        return self._doc.__copy__()

    def skeleton(self, paths: tuple[str, ...]) -> tuple[etree._Element, list[etree._Element]]:
        """A new Document holding the elements ``paths`` name, and those elements."""
        doc = self._doc.__copy__()
        return doc, self.tree(doc, paths)

    def tree(self, parent: etree._Element, paths: tuple[str, ...]) -> list[etree._Element]:
        """Append under ``parent`` the elements ``paths`` name (in document order, shared
        prefixes merged; all paths start at the same element) and return them in the order
        asked. One C-level copy of a prebuilt fragment replaces an lxml call per element
        for the constant parts of a message."""
        key = (self.ns, paths)
        cached = _SKELETONS.get(key)
        if cached is None:
            first = paths[0].split("/", 1)[0]
            top = etree.Element(self._prefix + first, nsmap={None: self.ns})
            indices: list[tuple[int, ...]] = []
            for path in paths:
                steps = path.split("/")
                if steps[0] != first:
                    raise ValueError(f"{path!r} does not start at {first!r}")
                node, index = top, []
                for step in steps[1:]:
                    qualified = self._prefix + step
                    last = node[-1] if len(node) else None
                    if last is None or last.tag != qualified:
                        last = _SubElement(node, qualified, None, None)
                    index.append(len(node) - 1)
                    node = last
                indices.append(tuple(index))
            cached = _SKELETONS[key] = (top, indices)
        template, where = cached
        top = template.__copy__()
        parent.append(top)
        nodes = []
        for route in where:
            node = top
            for i in route:
                node = node[i]
            nodes.append(node)
        return nodes

    def sub(self, parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
        qualified = self._tags.get(tag)
        if qualified is None:
            qualified = self._tags[tag] = self._prefix + tag
        # Positional attrib/nsmap skip lxml's keyword handling: ~25% faster per element.
        element = _SubElement(parent, qualified, None, None)
        if text is not None:
            element.text = text
        return element

    def path(self, parent: etree._Element, path: str, text: str | None = None) -> etree._Element:
        """``path(p, "FinInstnId/BICFI", "X")`` creates each level and sets the leaf text."""
        chain = self._paths.get(path)
        if chain is None:
            # A prebuilt chain, copied and appended: one copy in C instead of a
            # SubElement call per level (lxml drops the redundant xmlns on append).
            steps = path.split("/")
            top = etree.Element(self._prefix + steps[0], nsmap={None: self.ns})
            leaf = top
            for step in steps[1:]:
                leaf = _SubElement(leaf, self._prefix + step, None, None)
            chain = self._paths[path] = (top, len(steps) - 1)
        top, depth = chain
        node = top.__copy__()
        parent.append(node)
        for _ in range(depth):
            node = node[0]
        if text is not None:
            node.text = text
        return node

    def opt(self, parent: etree._Element, tag: str, text: str | None) -> None:
        if text is not None:
            qualified = self._tags.get(tag)
            if qualified is None:
                qualified = self._tags[tag] = self._prefix + tag
            _SubElement(parent, qualified, None, None).text = text

    def amount(self, parent: etree._Element, tag: str, value: Decimal, currency: str) -> None:
        self.sub(parent, tag, format(value, "f")).set("Ccy", currency)


def serialize(document: etree._Element) -> bytes:
    return etree.tostring(document, xml_declaration=True, encoding="UTF-8")


def format_amount(value: Decimal) -> str:
    return format(value, "f")


def format_datetime(value: dt.datetime) -> str:
    return value.isoformat(timespec="seconds")


@lru_cache(maxsize=4096)
def _steps(ns: str, path: str) -> tuple[str, ...]:
    return tuple("{" + ns + "}" + part for part in path.split("/") if part != ".")


class ChildIndex:
    """The children of each element read so far, by tag, for the Readers of one document
    that opt in (``Reader(..., index=ChildIndex())``). A pacs.008 reads some ninety paths,
    many of them absent; after one pass over an element's children each step is a dict
    lookup instead of a scan (``iterchildren(tag)``), which cost a third of reading one.
    Not for long repetitive documents read a few paths per element (camt.053 entries):
    there the index costs more than it saves. Keying by the lxml proxy keeps it alive,
    so an element keeps its identity while the index exists."""

    __slots__ = ("_by_element",)

    def __init__(self) -> None:
        self._by_element: dict[etree._Element, dict[object, list[etree._Element]]] = {}

    def children(self, element: etree._Element, tag: str) -> list[etree._Element]:
        index = self._by_element.get(element)
        if index is None:
            index = {}
            for child in element:
                # Comments and processing instructions have a function as tag: never a match.
                found = index.get(child.tag)
                if found is None:
                    index[child.tag] = [child]
                else:
                    found.append(child)
            self._by_element[element] = index
        return index.get(tag, _NO_CHILDREN)


_NO_CHILDREN: list[etree._Element] = []


def _find(
    index: ChildIndex | None, element: etree._Element, ns: str, path: str
) -> etree._Element | None:
    # Walking children in C (or an index of them) is several times faster than
    # ElementPath, whose compiled-path cache (100 entries) thrashes across the many
    # paths and namespaces read here.
    node = element
    for tag in _steps(ns, path):
        if index is None:
            found = next(node.iterchildren(tag), None)
            if found is None:
                return None
            node = found
        else:
            kids = index.children(node, tag)
            if not kids:
                return None
            node = kids[0]
    return node


def _find_all(
    index: ChildIndex | None, element: etree._Element, ns: str, path: str
) -> Iterator[etree._Element]:
    steps = _steps(ns, path)
    nodes: list[etree._Element] = [element]
    for tag in steps:
        if index is None:
            nodes = [child for node in nodes for child in node.iterchildren(tag)]
        else:
            nodes = [child for node in nodes for child in index.children(node, tag)]
    return iter(nodes)


class Reader:
    """Namespace-aware reads relative to one element, with paths for error messages.
    Readers reached from one another share the ``index`` given to the first, if any."""

    __slots__ = ("_index", "element", "ns", "where")

    def __init__(
        self, element: etree._Element, ns: str, where: str, index: ChildIndex | None = None
    ) -> None:
        self.element = element
        self.ns = ns
        self.where = where
        self._index = index

    def child(self, path: str) -> Reader | None:
        found = _find(self._index, self.element, self.ns, path)
        if found is None:
            return None
        return Reader(found, self.ns, f"{self.where}/{path}", self._index)

    def children(self, path: str) -> Iterator[Reader]:
        for i, found in enumerate(_find_all(self._index, self.element, self.ns, path)):
            yield Reader(found, self.ns, f"{self.where}/{path}[{i}]", self._index)

    def text(self, path: str) -> str | None:
        found = _find(self._index, self.element, self.ns, path)
        if found is None or found.text is None:
            return None
        return found.text.strip()

    def texts(self, path: str) -> list[str]:
        return [(e.text or "").strip() for e in _find_all(self._index, self.element, self.ns, path)]

    def required(self, path: str) -> str:
        value = self.text(path)
        if not value:
            raise SchemaInvalid(
                f"missing {path}", [FieldError(f"{self.where}/{path}", "required element missing")]
            )
        return value

    def amount(self, path: str) -> tuple[Decimal, str] | None:
        found = _find(self._index, self.element, self.ns, path)
        if found is None:
            return None
        try:
            return Decimal((found.text or "").strip()), found.get("Ccy", "")
        except InvalidOperation:
            raise SchemaInvalid(
                f"{path} is not a decimal amount",
                [FieldError(f"{self.where}/{path}", "not a decimal amount")],
            ) from None

    def date(self, path: str) -> dt.date | None:
        value = self.text(path)
        if value is None:
            return None
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            raise SchemaInvalid(
                f"{path} is not a date", [FieldError(f"{self.where}/{path}", "not an ISO date")]
            ) from None

    def datetime(self, path: str) -> dt.datetime | None:
        value = self.text(path)
        return None if value is None else iso_datetime(value, f"{self.where}/{path}", path)


def iso_datetime(value: str, pointer: str, name: str) -> dt.datetime:
    """An ISO 8601 date-time (``Z`` for UTC); ``SchemaInvalid`` at ``pointer`` otherwise."""
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise SchemaInvalid(
            f"{name} is not a date-time", [FieldError(pointer, "not an ISO date-time")]
        ) from None


def model_error(where: str, exc: ValidationError) -> SchemaInvalid:
    """A message that is well-formed but whose content the canonical model refuses."""
    errors = [FieldError(where + e.pointer, e.reason) for e in field_errors(exc)]
    return SchemaInvalid(f"{where}: content is not a valid payment: {errors[0].reason}", errors)


def group_header(root: Reader) -> tuple[Reader, dt.datetime]:
    """The message's ``GrpHdr`` and its ``CreDtTm``, both required."""
    hdr = root.child("GrpHdr")
    if hdr is None:
        raise SchemaInvalid("missing GrpHdr", [FieldError(root.where + "/GrpHdr", "required")])
    created = hdr.datetime("CreDtTm")
    if created is None:
        raise SchemaInvalid("missing CreDtTm", [FieldError(hdr.where + "/CreDtTm", "required")])
    return hdr, created
