"""Cleaning what people type, and making stored text safe to show, with one set of character classes.

Terminal control characters have no business in a record (an escape sequence
in a title must never reach another officer's terminal raw); tabs and
newlines do. Length limits keep a pasted log file out of a title.

What is unsafe (``UNSAFE``): C0 controls except newline and tab, DEL, C1
(U+0080–U+009F, which many terminals read as CSI/OSC/ST), every Unicode format
character (category Cf: bidi embeddings, overrides and isolates U+202A–U+202E
and U+2066–U+2069, zero-width characters, the BOM, tag characters …), the line
and paragraph separators U+2028/U+2029, and lone surrogates (the undecodable
bytes of a non-UTF-8 file name or argument). Input cleaning removes them;
``safe_display`` shows them as visible escapes (``\\x1b``, ``\\u202e``), so a
file called ``log<ESC>]0;T<BEL>.txt`` is listed as ``log\\x1b]0;T\\x07.txt``.
"""
from __future__ import annotations

import re
from typing import Any

from models.errors import ValidationError

TEXT_MAX = 20000

# (first, last) code points of every unsafe character: C0 but newline and tab, DEL and C1, the line
# and paragraph separators, lone surrogates, and category Cf as of Unicode 15 (tests/test_safe_output.py
# checks the Cf part against unicodedata).
UNSAFE_RANGES = (
    (0x00, 0x08), (0x0B, 0x1F), (0x7F, 0x9F), (0x2028, 0x2029), (0xD800, 0xDFFF),
    (0xAD, 0xAD), (0x600, 0x605), (0x61C, 0x61C), (0x6DD, 0x6DD), (0x70F, 0x70F), (0x890, 0x891),
    (0x8E2, 0x8E2), (0x180E, 0x180E), (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x2064),
    (0x2066, 0x206F), (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB), (0x110BD, 0x110BD), (0x110CD, 0x110CD),
    (0x13430, 0x1343F), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A), (0xE0001, 0xE0001), (0xE0020, 0xE007F),
)


def _class(ranges) -> str:
    return "".join(chr(lo) if lo == hi else f"{chr(lo)}-{chr(hi)}" for lo, hi in ranges)


_CLASS = _class(UNSAFE_RANGES)      # none of them is special inside [...] (no backslash, ] or ^)
UNSAFE = re.compile(f"[{_CLASS}]")
UNSAFE_OR_LAYOUT = re.compile(f"[{_CLASS}\n\t]")


def is_unsafe(ch: str) -> bool:
    return UNSAFE.match(ch) is not None


def _visible(ch: str) -> str:
    o = ord(ch)
    if o < 0x100:
        return f"\\x{o:02x}"
    if 0xDC80 <= o <= 0xDCFF:           # an undecodable byte (surrogateescape): show the byte
        return f"\\x{o - 0xDC00:02x}"
    return f"\\u{o:04x}" if o <= 0xFFFF else f"\\U{o:08x}"


def _json_escape(ch: str) -> str:
    o = ord(ch)
    if o <= 0xFFFF:
        return f"\\u{o:04x}"
    o -= 0x10000
    return f"\\u{0xD800 + (o >> 10):04x}\\u{0xDC00 + (o & 0x3FF):04x}"


def safe_display(text: Any, one_line: bool = False) -> str:
    """Stored text made safe for a terminal: every unsafe character shown as a visible escape.
    ``one_line`` also escapes newlines and tabs (a table cell, a title)."""
    s = "" if text is None else str(text)
    pattern = UNSAFE_OR_LAYOUT if one_line else UNSAFE
    if pattern.search(s) is None:       # the common case: nothing to do, no copy
        return s
    return pattern.sub(lambda m: _visible(m.group()), s)


def safe_json_text(text: str) -> str:
    """Already-serialised JSON with the unsafe characters written as ``\\uXXXX`` escapes: the same
    JSON value (inside a string a ``\\u`` escape means the character), but nothing raw on a terminal.
    JSON itself never has these characters outside strings."""
    if UNSAFE.search(text) is None:
        return text
    return UNSAFE.sub(lambda m: _json_escape(m.group()), text)


_MD_LINK = re.compile(r"(!?)\[([^\]\n]*)\]\(\s*<?([^)\s>]*)>?[^)\n]*\)")
_MD_REF = re.compile(r"^( {0,3}\[[^\]\n]+\]:)[ \t]*<?(\S*?)>?(?:[ \t].*)?$", re.MULTILINE)
_SAFE_SCHEME = re.compile(r"https?://", re.IGNORECASE)


def md_safe(text: Any) -> str:
    """Stored text made inert in a Markdown document: HTML escaped (``<script>``, ``<img onerror>``
    and ``<javascript:…>`` autolinks become text) and a link kept only when it is http(s); any other
    link (``javascript:``, ``data:``, ``file:``) keeps its words and loses its target."""
    import html
    s = html.escape("" if text is None else str(text), quote=False)

    def link(m: re.Match) -> str:
        return m.group(0) if _SAFE_SCHEME.match(m.group(3)) else m.group(2)

    def ref(m: re.Match) -> str:
        return m.group(0) if _SAFE_SCHEME.match(m.group(2)) else m.group(1)

    return _MD_REF.sub(ref, _MD_LINK.sub(link, s))


_SURROGATE = re.compile("[\ud800-\udfff]")
_BYTE_ESCAPE = re.compile(rb"\\x([0-9a-f]{2})")


def path_text(path: Any) -> str:
    """A file name or path as text the database can hold, as given: a name that is not UTF-8 (a
    GBK-named file from a Windows USB stick) keeps its bytes, each undecodable one written ``\\xNN``."""
    import os
    s = os.fsdecode(path) if not isinstance(path, str) else path
    if _SURROGATE.search(s) is None:
        return s
    return os.fsencode(s).decode("utf-8", errors="backslashreplace")


def text_path(text: str):
    """The file ``path_text`` named: the text itself when such a file exists, else the bytes again."""
    import os
    from pathlib import Path
    p = Path(text)
    if "\\x" not in text or p.exists():
        return p
    raw = _BYTE_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), text.encode("utf-8"))
    return Path(os.fsdecode(raw))


def readable_name(name: str) -> str:
    """A name for our own copy of a file whose name is not UTF-8: its bytes read as GB18030 (what a
    Chinese Windows writes), else with U+FFFD for what cannot be read; always valid text."""
    import os
    if _SURROGATE.search(name) is None:
        return name
    raw = os.fsencode(name)
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        return raw.decode("utf-8", errors="replace")


def strip_controls(text: str) -> str:
    """Typed text without the unsafe characters (newlines and tabs stay). The undecodable bytes of a
    non-UTF-8 argument become U+FFFD, so the loss shows instead of the text silently shrinking."""
    if UNSAFE.search(text) is None:
        return text
    return UNSAFE.sub(lambda m: "\ufffd" if "\ud800" <= m.group() <= "\udfff" else "", text)


def clean_text(value: Any, field: str, required: bool = False, limit: int = TEXT_MAX) -> str:
    """Text without control characters, trimmed; a missing required value or an overlong one is refused."""
    text = strip_controls("" if value is None else str(value)).strip()
    if required and not text:
        raise ValidationError({field: ("error.required", {})})
    if len(text) > limit:
        raise ValidationError({field: ("error.too_long", {"max": limit})})
    return text
