"""The one translation function, ``t``.

Messages live in ``assets/i18n/*.toml``: each table is a message key with a
``zh`` and an ``en`` string. Several files exist so that each feature keeps
its own messages; keys must be unique across files (checked by a test).
zh-CN is the default; English is chosen by ``--lang``, the config or the
locale.
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from models import tomlcache

LANGUAGES = ("zh", "en")
_I18N_DIR = Path(__file__).resolve().parent.parent / "assets" / "i18n"
_current = "zh"


@lru_cache(maxsize=1)
def catalog() -> dict[str, dict[str, str]]:
    merged: dict[str, dict[str, str]] = {}
    for path in sorted(_I18N_DIR.glob("*.toml")):
        data = tomlcache.load(path)
        for key, entry in data.items():
            if key in merged:
                raise RuntimeError(f"duplicate message key {key!r} in {path.name}")
            merged[key] = entry
    return merged


def normalise(lang: str | None) -> str | None:
    if not lang:
        return None
    lang = lang.lower().replace("-", "_")
    if lang.startswith("zh"):
        return "zh"
    if lang.startswith("en"):
        return "en"
    return None


def detect_language(explicit: str | None = None, configured: str | None = None) -> str:
    """``--lang`` beats the config, which beats the locale; Chinese otherwise.

    Only an explicit English locale (``en_US.UTF-8`` …) selects English: ``C``, ``C.UTF-8``,
    ``POSIX`` or no locale at all (a plain server shell, most SSH sessions) mean the default.
    The first of LC_ALL, LC_MESSAGES, LANG that is set decides, as in POSIX; Python's
    ``locale.getlocale()`` is not asked, because it maps ``C.UTF-8`` to ``en_US``.
    """
    for candidate in (explicit, os.environ.get("XUEJI_DUTY_LANG"), configured):
        lang = normalise(candidate)
        if lang:
            return lang
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "").strip()
        if value:
            return normalise(value.split(".")[0].split("@")[0]) or "zh"
    return "zh"


def set_language(lang: str) -> None:
    global _current
    norm = normalise(lang)
    if norm is None:
        raise ValueError(f"unsupported language {lang!r}")
    _current = norm


def get_language() -> str:
    return _current


def t(key: str, /, default: str | None = None, lang: str | None = None, **params: Any) -> str:
    """Translate ``key`` and fill ``{params}``; an unknown key shows itself, never crashes."""
    entry = catalog().get(key)
    use = lang or _current
    if entry is None:
        text = default if default is not None else key
    else:
        text = entry.get(use) or entry.get("zh") or key
    if params:
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            return text
    return text


def pick(zh: str, en: str) -> str:
    """Choose between two strings that come from data files rather than the catalogue."""
    return en if _current == "en" and en else zh
