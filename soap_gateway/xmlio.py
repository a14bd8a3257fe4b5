"""Direct lxml reading and writing of the contract's messages: the hot path of a 200-item call.

Spyne converts value by value through its protocol machinery, in pure Python: about 5.5 ms
to read and 28 ms to write a 200-item `registerPresences` (bench/soap_register.py). Both
sides are simpler here because the contract does the checking:

* reading happens after the Body validated against the contract XSD, so the structure,
  order, namespaces, facets and lexical forms are already known good; what remains is
  turning text into Python values (a value Python cannot hold is a ValueError, which the
  protocol answers with SOA-03007);
* writing walks the same Spyne types (`soap_gateway.types`), whose member order is the
  contract's, and emits the elements straight into lxml. Every response the tests produce
  is validated against the official XSD, so this writer is held to the contract.
"""

import re
from datetime import date, datetime
from functools import cache
from typing import Any

from lxml import etree
from spyne import ComplexModelBase, Date, DateTime, Integer, Unicode

from soap_gateway.types import PR, T

_XSD_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:Z|[+-]\d{2}:\d{2})?")


def strip_markup(envelope: etree._Element) -> None:
    """Drop comments and processing instructions, joining the text around them (bad input
    12: `<INSS>123<?pi?>45</INSS>` reads as `12345`). Runs after the signature check,
    which needs the document as received."""
    etree.strip_tags(envelope, etree.Comment, etree.ProcessingInstruction)


@cache
def _members(cls: Any) -> tuple[tuple[str, Any, bool, bool], ...]:
    """(name, type, is complex, is repeated) per member, in the contract's order."""
    return tuple(
        (name, member, issubclass(member, ComplexModelBase), (member.Attributes.max_occurs or 1) > 1)
        for name, member in cls._type_info.items()
    )


def _read_date(text: str) -> date:
    """An xs:date as the calendar date written; a zone suffix is dropped (spec: dates are
    Brussels dates). Years outside 1..9999 are valid XSD but no Python date."""
    match = _XSD_DATE.fullmatch(text.strip())
    if match is None:
        raise ValueError("xs:date outside the years 1..9999")
    return date(int(match[1]), int(match[2]), int(match[3]))


def _read_value(member: Any, text: str) -> Any:
    """Raises ValueError for a value Python cannot hold (a SOA-03007 for the caller)."""
    if issubclass(member, Date):
        return _read_date(text)
    if issubclass(member, DateTime):  # a time without zone stays naive: the service decides
        return datetime.fromisoformat(text.strip())
    if issubclass(member, Integer):  # Long included; xs:long collapses whitespace, as int() does
        return int(text)
    if issubclass(member, Unicode):
        return text
    raise TypeError(f"no direct reader for {member.__name__}")


@cache
def _by_name(cls: Any) -> dict[str, tuple[Any, bool, bool]]:
    return {name: (member, is_complex, many) for name, member, is_complex, many in _members(cls)}


def read(cls: Any, element: etree._Element) -> Any:
    """An instance of the Spyne type `cls` from a schema-valid element: the request wrapper
    (the in-message class) or anything below it. Raises ValueError for a value Python
    cannot hold."""
    members = _by_name(cls)
    values: dict[str, Any] = {}
    for child in element:
        name = child.tag.rpartition("}")[2]
        member, is_complex, many = members[name]
        value = read(member, child) if is_complex else _read_value(member, child.text or "")
        if many:
            values.setdefault(name, []).append(value)
        else:
            values[name] = value
    return (cls.__orig__ or cls)(**values)  # a customized Spyne class must not be instantiated


def _text(value: Any) -> str:
    if isinstance(value, date | datetime):  # datetimes are always aware here: ISO with offset
        return value.isoformat()
    return str(value)


def write(parent: etree._Element, cls: Any, value: Any, tag: str) -> None:
    """Append `value` (an instance of the Spyne type `cls`, or a primitive) as `tag`;
    None writes nothing (optional elements are omitted, never nil)."""
    if value is None:
        return
    element = etree.SubElement(parent, tag)
    if not issubclass(cls, ComplexModelBase):
        element.text = _text(value)
        return
    for name, member, _, many in _members(cls):
        member_value = getattr(value, name, None)
        for each in member_value if many and member_value is not None else (member_value,):
            write(element, member, each, f"{{{T}}}{name}")


def write_message(parent: etree._Element, message_cls: Any, out_object: Any) -> None:
    """The wrapped response: the wrapper and its direct children in PR, the rest in T.

    Written as markup and parsed once (`_message_markup`): lxml parses the 3,400 elements
    of a 200-item answer about seven times faster than it builds them one `SubElement` at
    a time. The tree, and so the bytes sent, are the same as `write`'s (tests hold the two
    to each other); a message the markup cannot carry exactly goes through `write`.
    """
    markup = _message_markup(parent, message_cls, out_object)
    if markup is not None:
        parent.append(etree.fromstring(markup, _FRAGMENT_PARSER))
        return
    write_message_by_element(parent, message_cls, out_object)


def write_message_by_element(parent: etree._Element, message_cls: Any, out_object: Any) -> None:
    """`write_message` one element at a time."""
    wrapper = etree.SubElement(parent, f"{{{PR}}}{message_cls.get_type_name()}")
    for (name, member, _, many), value in zip(_members(message_cls), out_object, strict=False):
        for each in value if many and value is not None else (value,):
            write(wrapper, member, each, f"{{{PR}}}{name}")


# Markup we wrote ourselves: no entities, no DTD, nothing to resolve; big answers allowed.
_FRAGMENT_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, remove_blank_text=False)
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})


class _NotAsMarkupError(Exception):
    """A value whose tree markup would not reproduce: an empty text (written `<a></a>` by
    lxml, parsed back as `<a/>`)."""


def _message_markup(parent: etree._Element, message_cls: Any, out_object: Any) -> bytes | None:
    """The wrapper element as markup, with the namespace prefixes `parent` already declares
    (lxml drops the repeated declarations when the fragment is appended). None when a
    namespace has no prefix there or a value cannot be written as markup."""
    prefixes = {uri: prefix for prefix, uri in parent.nsmap.items() if prefix}
    if PR not in prefixes or T not in prefixes:
        return None
    pr, tp = prefixes[PR], prefixes[T]
    wrapper = f"{pr}:{message_cls.get_type_name()}"
    parts = [f'<{wrapper} xmlns:{pr}="{PR}" xmlns:{tp}="{T}">']
    try:
        for (name, member, is_complex, many), value in zip(_members(message_cls), out_object, strict=False):
            for each in value if many and value is not None else (value,):
                _markup(parts, member, is_complex, each, f"{pr}:{name}", tp)
    except _NotAsMarkupError:
        return None
    parts.append(f"</{wrapper}>")
    return "".join(parts).encode()


@cache
def _markup_plan(cls: Any, prefix: str) -> tuple[tuple[str, str, str, Any, bool, bool], ...]:
    """(name, opening tag, closing tag, type, is complex, is repeated) per member of `cls`,
    in the contract's order, its elements in the namespace `prefix` stands for."""
    return tuple(
        (name, f"<{prefix}:{name}>", f"</{prefix}:{name}>", member, is_complex, many)
        for name, member, is_complex, many in _members(cls)
    )


def _markup(parts: list[str], cls: Any, is_complex: bool, value: Any, tag: str, prefix: str) -> None:
    """`write`, as markup appended to `parts`."""
    if value is None:
        return
    if not is_complex:
        parts.append(f"<{tag}>{_markup_text(value)}</{tag}>")
        return
    parts.append(f"<{tag}>")
    _markup_members(parts, cls, value, prefix)
    parts.append(f"</{tag}>")


def _markup_members(parts: list[str], cls: Any, value: Any, prefix: str) -> None:
    for name, opening, closing, member, is_complex, many in _markup_plan(cls, prefix):
        member_value = getattr(value, name, None)
        if member_value is None:
            continue
        for each in member_value if many else (member_value,):
            if each is None:
                continue
            if is_complex:
                parts.append(opening)
                _markup_members(parts, member, each, prefix)
                parts.append(closing)
            else:
                parts.append(f"{opening}{_markup_text(each)}{closing}")


def _markup_text(value: Any) -> str:
    text = value if type(value) is str else _text(value)
    if not text:
        raise _NotAsMarkupError
    return text.translate(_ESCAPES)
