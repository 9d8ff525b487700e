"""Every message exists in both languages, with the same placeholders, and every key used exists."""
import re
import string

from models.i18n import catalog, detect_language, set_language, t
from tests.conftest import ROOT


def _placeholders(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def test_every_message_has_both_languages_and_same_placeholders():
    cat = catalog()
    assert len(cat) > 50
    problems = []
    for key, entry in cat.items():
        zh, en = entry.get("zh", ""), entry.get("en", "")
        if not zh.strip() or not en.strip():
            problems.append(f"{key}: missing a language")
        elif _placeholders(zh) != _placeholders(en):
            problems.append(f"{key}: placeholders differ {_placeholders(zh)} vs {_placeholders(en)}")
    assert not problems, "\n".join(problems)


_KEY_USE = re.compile(r"""\bt\(\s*["']([a-z_]+\.[a-z0-9_.]+)["']""")


def test_every_literal_key_used_in_code_exists():
    cat = catalog()
    missing = []
    for folder in ("models", "tui", "screens"):
        for path in (ROOT / folder).rglob("*.py"):
            for key in _KEY_USE.findall(path.read_text(encoding="utf-8")):
                if key not in cat:
                    missing.append(f"{path.relative_to(ROOT)}: {key}")
    assert not missing, "\n".join(missing)


def test_language_switch_and_detection(monkeypatch):
    set_language("en")
    assert t("state.overdue") == "overdue"
    set_language("zh")
    assert t("state.overdue") == "超时"
    assert detect_language("en") == "en"
    monkeypatch.setenv("LANG", "en_GB.UTF-8")
    assert detect_language(None, None) == "en"
    assert detect_language(None, "zh-CN") == "zh"
    assert t("no.such.key") == "no.such.key"


import pytest


@pytest.mark.parametrize("env, expected", [
    ({}, "zh"),
    ({"LANG": "C"}, "zh"),
    ({"LANG": "C.UTF-8"}, "zh"),
    ({"LANG": "POSIX"}, "zh"),
    ({"LC_ALL": "C.UTF-8", "LANG": "en_US.UTF-8"}, "zh"),   # LC_ALL decides, as in POSIX
    ({"LANG": "en_US.UTF-8"}, "en"),
    ({"LC_MESSAGES": "en_GB.UTF-8", "LANG": "C.UTF-8"}, "en"),
    ({"LANG": "zh_CN.UTF-8"}, "zh"),
    ({"LANG": "de_DE.UTF-8"}, "zh"),
])
def test_only_an_explicit_english_locale_selects_english(monkeypatch, env, expected):
    for var in ("LC_ALL", "LC_MESSAGES", "LANG", "XUEJI_DUTY_LANG"):
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    assert detect_language(None, None) == expected
    assert detect_language("en", None) == "en"          # --lang still wins
    assert detect_language(None, "en") == "en"          # and so does the config
