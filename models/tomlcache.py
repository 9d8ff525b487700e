"""The shipped TOML assets (catalogues, policies, taxonomy), parsed once and kept as JSON.

``tomllib`` is pure Python: parsing the ~170 KB of shipped TOML took ~25 ms of
every start-up, a tenth of the board's first paint (issue 4). ``json`` reads the
same data in ~1 ms. The copy lives in the user cache folder, one file per asset,
and carries the source's size and modification time: a changed asset is parsed
again, and any problem with the cache (unwritable folder, damaged file, a value
JSON cannot hold such as a TOML date) falls back to parsing, never to an error.

Only files we ship go through here; the officer's config file is read directly
so that its error messages keep their line numbers.
"""
from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

FORMAT = 1


@lru_cache(maxsize=1)
def cache_dir() -> Path | None:
    """``XUEJI_DUTY_CACHE_DIR`` (``off`` to parse every time) or the user cache folder."""
    override = os.environ.get("XUEJI_DUTY_CACHE_DIR")
    if override == "off":
        return None
    if override:
        return Path(override)
    from platformdirs import user_cache_path
    return user_cache_path("xueji-duty", appauthor=False) / "assets"


def _stamp(path: Path) -> list:
    st = path.stat()
    return [FORMAT, str(path.resolve()), st.st_size, st.st_mtime_ns]


def load(path: Path) -> dict[str, Any]:
    """``tomllib.load`` of ``path``, from the JSON copy when it matches the file."""
    folder = cache_dir()
    if folder is None:
        return _parse(path)
    stamp = _stamp(path)
    cached = folder / (hashlib.sha1(stamp[1].encode()).hexdigest()[:16] + ".json")
    try:
        saved = json.loads(cached.read_text(encoding="utf-8"))
        if saved.get("stamp") == stamp:
            return saved["data"]
    except (OSError, ValueError, AttributeError, KeyError):
        pass
    data = _parse(path)
    try:
        text = json.dumps({"stamp": stamp, "data": data}, ensure_ascii=False)
    except (TypeError, ValueError):
        return data            # dates and times do not survive JSON: parse this file every time
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_name(f"{cached.name}.{os.getpid()}.tmp")
        try:
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, cached)   # another process may write the same file: last one wins, whole
        finally:
            tmp.unlink(missing_ok=True)
    except OSError:
        pass
    return data


def _parse(path: Path) -> dict[str, Any]:
    import tomllib      # only when the copy is missing or stale
    with path.open("rb") as fh:
        return tomllib.load(fh)
