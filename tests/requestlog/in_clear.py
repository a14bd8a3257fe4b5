"""Checks, independent of the code under test, that a stored text holds no NISS in clear."""

import html
import re

_JSON_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})")
_PERCENT_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_XML_MARKUP = re.compile(r"<!--.*?-->|<\?.*?\?>|<!\[CDATA\[|\]\]>", re.DOTALL)


def digits_as_read(text: str) -> str:
    """Every digit a parser would read in `text`, in order: XML and JSON escapes and
    percent-encoding undone, XML comments, processing instructions and CDATA markers dropped,
    everything but digits removed. A NISS in clear, however spelled, is a run of it."""
    text = _XML_MARKUP.sub("", html.unescape(_JSON_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)))
    text = _PERCENT_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    return re.sub(r"[^0-9]", "", text)


def assert_no_niss_in_clear(text: str, *numbers: str) -> None:
    digits = digits_as_read(text)
    for number in numbers:
        assert number not in digits, f"{number} in clear in: {text[:2000]}"
