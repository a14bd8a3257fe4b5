"""Request bodies as I-JSON (RFC 7493), the interoperable subset of JSON every client library
writes: DRF's JSONParser takes more, and some of what it takes cannot be answered.

Refused, each with its own reason (a 400 `badRequest` problem, nothing stored):

* a name twice in one object: Python keeps the last, another reader the first; ambiguous;
* a lone UTF-16 surrogate (`"\\ud800"`): not a character, it cannot even be echoed back;
* `NaN` and `Infinity` (not JSON), and numbers written with more than MAX_NUMBER_CHARS
  characters (Python would read 4300 digits first); `1e400` is read as infinite and refused
  by the field it is sent in, which names it;
* a body that is not UTF-8, or says it is in another charset;
* nesting deeper than MAX_DEPTH (Python's decoder would otherwise hit its recursion limit).
"""

import codecs
import json
import re
from collections.abc import Mapping
from typing import Any

from rest_framework.parsers import JSONParser

from rest_gateway.errors import MalformedBody

MAX_DEPTH = 32  # the deepest legitimate body (registerInBulk) nests 5
MAX_NUMBER_CHARS = 64  # a double needs 24; Python would parse 4300 digits before refusing
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # a decoded pair is one character, never matched


def _has_lone_surrogate(text: str) -> bool:
    return _LONE_SURROGATE.search(text) is not None


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    names: dict[str, Any] = {}
    for name, value in pairs:
        if _has_lone_surrogate(name):
            raise MalformedBody("A name holds a lone UTF-16 surrogate, which is not a character")
        if name in names:
            raise MalformedBody(f"The name {json.dumps(name[:64])} occurs twice in one object: the input is ambiguous")
        names[name] = value
    return names


def _integer(text: str) -> int:
    _check_length(text)
    return int(text)


def _decimal(text: str) -> float:
    """A float; one beyond a double (1e400) is infinite, and the field refuses it by name."""
    _check_length(text)
    return float(text)


def _check_length(number: str) -> None:
    if len(number) > MAX_NUMBER_CHARS:
        raise MalformedBody(f"A number has more than {MAX_NUMBER_CHARS} characters")


def _constant(name: str) -> None:
    raise MalformedBody(f"{name} is not a JSON number")


def _check_strings_and_depth(document: Any) -> None:
    """Every string value free of lone surrogates (names are checked while decoding), and no
    nesting beyond MAX_DEPTH. Iterative: the document may be as deep as the decoder allows."""
    pending: list[tuple[Any, int]] = [(document, 0)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, str):
            if _has_lone_surrogate(node):
                raise MalformedBody("A string holds a lone UTF-16 surrogate, which is not a character")
        elif isinstance(node, Mapping | list):
            if depth >= MAX_DEPTH:
                raise MalformedBody(f"Objects and arrays are nested more than {MAX_DEPTH} deep")
            children = node.values() if isinstance(node, Mapping) else node
            pending.extend((child, depth + 1) for child in children)


class IJsonParser(JSONParser):
    """DRF's JSON parser for `application/json`, refusing what is not I-JSON (module doc)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        text = self._text(stream, parser_context)
        try:
            document = json.loads(
                text, object_pairs_hook=_object, parse_int=_integer, parse_float=_decimal, parse_constant=_constant
            )
        except RecursionError:
            raise MalformedBody(f"Objects and arrays are nested more than {MAX_DEPTH} deep") from None
        except ValueError as exc:  # json.JSONDecodeError
            raise MalformedBody(f"The body is not valid JSON: {exc}") from None
        _check_strings_and_depth(document)
        return document

    @staticmethod
    def _text(stream: Any, parser_context: Any) -> str:
        """The body decoded as UTF-8, the only encoding JSON has (RFC 8259 §8.1). Another
        `charset` is refused, never decoded: that also keeps out codecs such as bz2_codec
        that would expand a small body past the size limit."""
        charset = (parser_context or {}).get("encoding") or "utf-8"
        try:
            utf8 = codecs.lookup(charset).name == "utf-8"
        except LookupError:
            utf8 = False
        if not utf8:
            raise MalformedBody(f"The body must be UTF-8, not {charset[:32]}")
        try:
            return str(stream.read().decode("utf-8"))
        except UnicodeDecodeError:
            raise MalformedBody("The body is not valid UTF-8") from None
