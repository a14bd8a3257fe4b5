"""A request body as the request log keeps it: every NISS (and BIS number) masked by the
service's own redaction rules (config/logging.py), after the escapes a client could hide a
number's digits in are undone.

The parsers read `&#56;` and `&#x38;` (XML), `\\u0038` (JSON) as the digit 8, and drop XML
comments, processing instructions and CDATA markers between digits: a NISS spelled that way is
admitted as a NISS, so it is spelled plainly here before the redaction looks for it.
"""

import re

from config.logging import redact_niss

# The characters of a NISS as admission reads it: digits and the separators '.', '-', ' '.
_NISS_CHARACTERS = frozenset("0123456789.- ")
_XML_REFERENCE = re.compile(r"&#(?:([0-9]{1,7})|[xX]([0-9A-Fa-f]{1,6}));")
_JSON_ESCAPE = re.compile(r"\\u00([23][0-9A-Fa-f])")
_XML_DECLARATION = re.compile(r"<\?xml[\s?]")


def _plain_xml_reference(match: re.Match[str]) -> str:
    decimal, hexadecimal = match.groups()
    code = int(decimal) if decimal else int(hexadecimal, 16)
    character = chr(code) if code < 0x110000 else ""
    return character if character in _NISS_CHARACTERS else match.group(0)


def _plain_json_escape(match: re.Match[str]) -> str:
    character = chr(int(match.group(1), 16))
    return character if character in _NISS_CHARACTERS else match.group(0)


def plain_digits(text: str) -> str:
    """`text` with the escapes and markup that can hide a NISS's digits undone."""
    if "&#" in text:
        text = _XML_REFERENCE.sub(_plain_xml_reference, text)
    if "\\u00" in text:
        text = _JSON_ESCAPE.sub(_plain_json_escape, text)
    if "<!--" in text:
        text = _without_markup(text, "<!--", "-->")
    if "<?" in text:
        text = _without_markup(text, "<?", "?>")
    return text.replace("<![CDATA[", "").replace("]]>", "")


def _without_markup(text: str, opening: str, closing: str) -> str:
    """`text` without each closed `opening`...`closing` span (comments, processing
    instructions; the XML declaration stays). One pass: an unclosed span ends the search."""
    kept, position, search = [], 0, 0
    while (start := text.find(opening, search)) != -1:
        end = text.find(closing, start + len(opening))
        if end == -1:
            break
        search = end + len(closing)
        if opening == "<?" and _XML_DECLARATION.match(text, start):
            continue
        kept.append(text[position:start])
        position = search
    kept.append(text[position:])
    return "".join(kept)


def redacted(raw: bytes | str, *, max_chars: int) -> str:
    """What the log keeps of a body: decoded (undecodable bytes replaced), every NISS masked,
    then cut to `max_chars`, saying how much was cut. Masking comes first, so a cut never
    leaves part of a number in clear."""
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    text = redact_niss(plain_digits(text))
    if len(text) > max_chars:
        text = f"{text[:max_chars]}… [{len(text) - max_chars} more characters not kept]"
    return text
