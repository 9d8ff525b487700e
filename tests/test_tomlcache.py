"""The shipped TOML assets are parsed once and read back from a JSON copy; any trouble with the
copy means parsing again, never an error or stale data."""
import json
import tomllib

import pytest

from models import tomlcache
from tests.conftest import ROOT


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("XUEJI_DUTY_CACHE_DIR", str(folder))
    tomlcache.cache_dir.cache_clear()
    yield folder
    tomlcache.cache_dir.cache_clear()


def _copies(folder):
    return sorted(folder.glob("*.json")) if folder.exists() else []


def test_same_data_as_tomllib_and_the_second_read_comes_from_the_copy(cache, monkeypatch):
    src = ROOT / "assets" / "policies" / "school_plan.toml"
    with src.open("rb") as fh:
        expected = tomllib.load(fh)
    assert tomlcache.load(src) == expected
    [copy] = _copies(cache)
    assert json.loads(copy.read_text(encoding="utf-8"))["data"] == expected

    def no_parsing(path):
        raise AssertionError("parsed although the copy matches")
    monkeypatch.setattr(tomlcache, "_parse", no_parsing)
    assert tomlcache.load(src) == expected


def test_a_changed_file_is_parsed_again(cache, tmp_path):
    src = tmp_path / "a.toml"
    src.write_text('["k"]\nzh = "一"\n', encoding="utf-8")
    assert tomlcache.load(src) == {"k": {"zh": "一"}}
    src.write_text('["k"]\nzh = "二二"\n', encoding="utf-8")     # other size and mtime
    assert tomlcache.load(src) == {"k": {"zh": "二二"}}
    assert len(_copies(cache)) == 1                              # one copy per asset, replaced


def test_a_damaged_copy_is_ignored_and_rewritten(cache, tmp_path):
    src = tmp_path / "b.toml"
    src.write_text("x = 1\n", encoding="utf-8")
    tomlcache.load(src)
    [copy] = _copies(cache)
    copy.write_bytes(b"\x00{not json")
    assert tomlcache.load(src) == {"x": 1}
    assert json.loads(copy.read_text(encoding="utf-8"))["data"] == {"x": 1}


def test_a_copy_claiming_another_stamp_is_not_used(cache, tmp_path):
    src = tmp_path / "c.toml"
    src.write_text("x = 1\n", encoding="utf-8")
    tomlcache.load(src)
    [copy] = _copies(cache)
    saved = json.loads(copy.read_text(encoding="utf-8"))
    saved["stamp"][3] += 1           # the mtime it claims no longer matches the file
    saved["data"] = {"x": 999}
    copy.write_text(json.dumps(saved), encoding="utf-8")
    assert tomlcache.load(src) == {"x": 1}


def test_dates_are_not_cached_but_still_returned(cache, tmp_path):
    src = tmp_path / "d.toml"
    src.write_text("when = 2026-11-25T10:00:00\n", encoding="utf-8")
    data = tomlcache.load(src)
    assert data["when"].year == 2026
    assert _copies(cache) == []


def test_a_cache_folder_that_cannot_be_written_is_no_error(cache, tmp_path):
    cache.write_text("in the way", encoding="utf-8")    # a file where the folder should be
    src = tmp_path / "f.toml"
    src.write_text("x = 3\n", encoding="utf-8")
    assert tomlcache.load(src) == {"x": 3}


def test_off_parses_every_time(monkeypatch, tmp_path):
    monkeypatch.setenv("XUEJI_DUTY_CACHE_DIR", "off")
    tomlcache.cache_dir.cache_clear()
    try:
        assert tomlcache.cache_dir() is None
        src = tmp_path / "g.toml"
        src.write_text("x = 4\n", encoding="utf-8")
        assert tomlcache.load(src) == {"x": 4}
    finally:
        tomlcache.cache_dir.cache_clear()
