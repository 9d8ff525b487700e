"""Cleaning what people type, once for every service.

Terminal control characters have no business in a record (an escape sequence
in a title must never reach another officer's terminal raw); tabs and
newlines do. Length limits keep a pasted log file out of a title.
"""
from __future__ import annotations

from typing import Any

from models.errors import ValidationError

TEXT_MAX = 20000


def strip_controls(text: str) -> str:
    return "".join(ch for ch in text if ch in "\n\t" or (ord(ch) >= 32 and ord(ch) != 127))


def clean_text(value: Any, field: str, required: bool = False, limit: int = TEXT_MAX) -> str:
    """Text without control characters, trimmed; a missing required value or an overlong one is refused."""
    text = strip_controls("" if value is None else str(value)).strip()
    if required and not text:
        raise ValidationError({field: ("error.required", {})})
    if len(text) > limit:
        raise ValidationError({field: ("error.too_long", {"max": limit})})
    return text
