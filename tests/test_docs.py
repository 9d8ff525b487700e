"""The documentation stays true to the program (issue 18).

Three checks run over README.md and every Markdown file under docs/:

* **links** — every relative link (``[text](path#anchor)``, images too) names a file of the
  repository that exists, and an anchor names a heading of that file; nothing points outside
  the repository;
* **commands** — every ``xueji-duty …`` the docs show (in code blocks and in inline code) names
  subcommands and options that exist in the real parser (``tui.cli.build_parser``);
* **keys** — a key table is announced by ``<!-- keys: MODULE[.Class] -->`` on the line before it;
  every key written in backticks in its first column is a binding of that screen (its classes'
  ``BINDINGS``, the app's, or a key Textual's own widgets handle: arrows, PgUp/PgDn, Tab).

Each check is a function of a documentation tree (and of the parser or the bindings), so the
tests below also show it failing on a copy with a link, a command or a key taken away.
"""
from __future__ import annotations

import argparse
import importlib
import re
import shutil
from pathlib import Path
from urllib.parse import unquote

import pytest

from tests.conftest import ROOT

# --------------------------------------------------------------------------------------------
# reading the docs


def doc_files(root: Path) -> list[Path]:
    return [root / "README.md", *sorted((root / "docs").rglob("*.md"))]


_FENCE = re.compile(r"^\s*(```|~~~)")


def split_code(text: str) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(code lines, prose lines) with their line numbers."""
    code, prose, inside = [], [], False
    for n, line in enumerate(text.splitlines(), 1):
        if _FENCE.match(line):
            inside = not inside
            continue
        (code if inside else prose).append((n, line))
    return code, prose


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    _, prose = split_code(path.read_text(encoding="utf-8"))
    for _, line in prose:
        m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if m:
            s = slug(m.group(1))
            n = seen.get(s, 0)
            seen[s] = n + 1
            out.add(s if n == 0 else f"{s}-{n}")
    return out


# --------------------------------------------------------------------------------------------
# links

_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def broken_links(root: Path) -> list[str]:
    problems = []
    for doc in doc_files(root):
        if not doc.exists():
            continue
        _, prose = split_code(doc.read_text(encoding="utf-8"))
        for n, line in prose:
            line = re.sub(r"`[^`]*`", "", line)           # `[x](y)` in inline code is not a link
            for target in _LINK.findall(line):
                if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):   # http:, https:, mailto:
                    continue
                where = f"{doc.relative_to(root)}:{n}: {target}"
                path_part, _, anchor = target.partition("#")
                dest = (doc.parent / unquote(path_part)).resolve() if path_part else doc.resolve()
                if not dest.is_relative_to(root.resolve()):
                    problems.append(f"{where} (outside the repository)")
                elif not dest.exists():
                    problems.append(f"{where} (no such file)")
                elif anchor and dest.suffix == ".md" and unquote(anchor) not in anchors(dest):
                    problems.append(f"{where} (no such heading)")
    return problems


# --------------------------------------------------------------------------------------------
# commands

_CMD = re.compile(r"(?:^|(?<=[\s(`|;]))(?:[\w.~\\/-]*[\\/])?xueji-duty(?=\s|$)")
_STOP = {"|", "||", "&&", ";", ">", ">>", "<", "2>", "2>&1"}


def shown_commands(root: Path) -> list[tuple[str, str]]:
    """(where, the words after ``xueji-duty``) for every command the docs show."""
    out = []
    for doc in doc_files(root):
        if not doc.exists():
            continue
        code, prose = split_code(doc.read_text(encoding="utf-8"))
        pieces = []
        for n, line in code:              # a shell line continued with a backslash is one command
            if pieces and pieces[-1][1].endswith("\\"):
                pieces[-1] = (pieces[-1][0], pieces[-1][1][:-1] + " " + line)
            else:
                pieces.append((n, line))
        for n, line in prose:
            pieces += [(n, span) for span in re.findall(r"`([^`]*xueji-duty[^`]*)`", line)]
        for n, text in pieces:
            text = re.sub(r"\"[^\"]*\"|'[^']*'|“[^”]*”", " VALUE ", text)
            text = re.sub(r"(^|\s)#.*$", "", text)                 # a shell comment
            for m in _CMD.finditer(text):
                out.append((f"{doc.relative_to(root)}:{n}", text[m.end():]))
    return out


def _subparsers(p: argparse.ArgumentParser):
    return next((a for a in p._actions if isinstance(a, argparse._SubParsersAction)), None)


def command_problem(parser: argparse.ArgumentParser, words: str) -> str | None:
    """Why ``xueji-duty words`` is not a command the parser knows, or None."""
    tokens = []
    for tok in words.replace("[", " ").replace("]", " ").split():
        if tok in _STOP:
            break
        tokens.append(tok)
    chain = [parser]
    positional_seen = False
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if re.match(r"^--?[A-Za-z]", tok):
            for alt in tok.split("|"):
                name = alt.split("=", 1)[0]
                action = next((q._option_string_actions[name] for q in reversed(chain)
                               if name in q._option_string_actions), None)
                if action is None:
                    return f"{' '.join(c.prog for c in chain[-1:])}: no option {name}"
            i += 1
            if "=" not in tok and action.nargs != 0:
                if action.nargs in ("+", "*"):
                    while i < len(tokens) and not tokens[i].startswith("-"):
                        i += 1
                else:
                    i += 1
            continue
        sub = _subparsers(chain[-1])
        if sub is not None and not positional_seen:
            alts = [a for a in tok.split("|") if a]
            if alts and all(a in sub.choices for a in alts):
                chain.append(sub.choices[alts[0]])
                i += 1
                continue
            others = [a for a in chain[-1]._actions if not a.option_strings and a is not sub]
            if not others and tok not in ("…", "...", "VALUE"):
                return f"{chain[-1].prog}: no command {tok!r}"
        positional_seen = True
        i += 1
    return None


def unknown_commands(root: Path, parser: argparse.ArgumentParser) -> list[str]:
    return [f"{where}: xueji-duty{words} — {why}" for where, words in shown_commands(root)
            if (why := command_problem(parser, words))]


# --------------------------------------------------------------------------------------------
# keys

_KEY_MARK = re.compile(r"<!--\s*keys:\s*([\w.]+)\s*-->")
# Keys Textual's own widgets handle on every screen (DataTable, Input, focus movement).
WIDGET_KEYS = {"up", "down", "left", "right", "pageup", "pagedown", "home", "end", "tab", "shift+tab"}
_KEY_NAMES = {"/": "slash", "?": "question_mark", "esc": "escape", "del": "delete", "↑": "up",
              "↓": "down", "←": "left", "→": "right", "pgup": "pageup", "pgdn": "pagedown",
              "return": "enter", "空格": "space"}


def normalise_key(text: str) -> str:
    k = text.strip().lower()
    return _KEY_NAMES.get(k, k)


def screen_class(spec: str):
    module, _, cls = spec.partition(".")
    mod = importlib.import_module(f"screens.{module}")
    return getattr(mod, cls) if cls else mod.SCREEN


def screen_keys(spec: str) -> set[str]:
    from textual.binding import Binding
    from tui.app import DutyApp
    keys = set(WIDGET_KEYS)
    if DutyApp.ENABLE_COMMAND_PALETTE:
        keys.add(DutyApp.COMMAND_PALETTE_BINDING)
    for klass in [*screen_class(spec).__mro__, DutyApp]:
        for b in klass.__dict__.get("BINDINGS", []):
            key = b.key if isinstance(b, Binding) else b[0]
            keys |= {k.strip() for k in key.split(",")}
    return keys


def documented_keys(root: Path) -> list[tuple[str, str, str]]:
    """(where, screen spec, key) for every key in an announced key table."""
    out = []
    for doc in doc_files(root):
        if not doc.exists():
            continue
        lines = doc.read_text(encoding="utf-8").splitlines()
        for n, line in enumerate(lines):
            m = _KEY_MARK.search(line)
            if not m:
                continue
            j = n + 1
            while j < len(lines) and not lines[j].strip():
                j += 1
            body = False                      # the header row names the column, not a key
            while j < len(lines) and lines[j].lstrip().startswith("|"):
                first = lines[j].strip().strip("|").split("|")[0]
                if re.fullmatch(r"\s*:?-+:?\s*", first):
                    body = True
                elif body:
                    for key in re.findall(r"`([^`]+)`", first):
                        out.append((f"{doc.relative_to(root)}:{j + 1}", m.group(1), key))
                j += 1
    return out


def unknown_keys(root: Path, keys_of=screen_keys) -> list[str]:
    cache: dict[str, set[str]] = {}
    problems = []
    for where, spec, key in documented_keys(root):
        if spec not in cache:
            cache[spec] = keys_of(spec)
        if normalise_key(key) not in cache[spec]:
            problems.append(f"{where}: {key!r} is not a key of {spec}")
    return problems


# --------------------------------------------------------------------------------------------
# the checks on the real docs


@pytest.fixture(scope="module")
def parser():
    from tui.cli import build_parser
    return build_parser()


def test_docs_exist_and_readme_is_short():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 150
    assert "make run" in "\n".join(readme.splitlines()[:8]) and "make test" in "\n".join(readme.splitlines()[:8])
    assert len(doc_files(ROOT)) > 5


def test_every_code_block_is_closed():
    """An unclosed fence would hide the rest of the file from the link and key checks."""
    for doc in doc_files(ROOT):
        fences = [line for line in doc.read_text(encoding="utf-8").splitlines() if _FENCE.match(line)]
        assert len(fences) % 2 == 0, doc


def test_every_relative_link_resolves():
    assert broken_links(ROOT) == []


def test_every_command_shown_exists(parser):
    shown = shown_commands(ROOT)
    assert len(shown) > 50        # the docs do show the commands
    assert unknown_commands(ROOT, parser) == []


def test_every_key_listed_is_a_binding_of_its_screen():
    listed = documented_keys(ROOT)
    assert {spec for _, spec, _ in listed} >= {"board", "incident", "report", "contacts"}
    assert unknown_keys(ROOT) == []


def test_every_screen_named_in_a_key_table_exists():
    for _, spec, _ in documented_keys(ROOT):
        assert screen_class(spec) is not None


def test_the_help_overlay_names_sections_the_guides_have():
    from screens.help import GUIDES, SECTIONS, guide_section
    from models.i18n import t
    for lang, path in GUIDES.items():
        heads = anchors(ROOT / path)
        for section in set(SECTIONS.values()):
            assert slug(t(f"help.guide.{section}", lang=lang)) in heads, (lang, section)
    assert guide_section("board") == "daily" and guide_section("no_such_screen") is None


# --------------------------------------------------------------------------------------------
# each check fails when something is taken away


@pytest.fixture
def docs_copy(tmp_path):
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    shutil.copy(ROOT / "CONTRIBUTING.md", tmp_path / "CONTRIBUTING.md")
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    return tmp_path


def test_link_check_fails_when_a_linked_file_or_heading_is_removed(docs_copy):
    assert broken_links(docs_copy) == []
    (docs_copy / "docs" / "reference.md").unlink()
    assert any("reference.md" in p and "no such file" in p for p in broken_links(docs_copy))
    guide = docs_copy / "docs" / "guide.zh.md"
    guide.write_text(guide.read_text(encoding="utf-8").replace("## 演练", "## 练习"), encoding="utf-8")
    assert any("no such heading" in p for p in broken_links(docs_copy))


def test_link_check_refuses_links_outside_the_repository(docs_copy):
    (docs_copy / "docs" / "extra.md").write_text("[rules](../../shared/domain/reporting-rules.md)\n",
                                                 encoding="utf-8")
    assert any("outside the repository" in p for p in broken_links(docs_copy))


def _without_command(parser, *path: str):
    p = parser
    for name in path[:-1]:
        p = _subparsers(p).choices[name]
    sub = _subparsers(p)
    del sub.choices[path[-1]]
    return parser


def test_command_check_fails_when_a_command_or_option_is_removed(docs_copy):
    from tui.cli import build_parser
    assert unknown_commands(docs_copy, build_parser()) == []
    gone = _without_command(build_parser(), "doctor")
    assert any("no command 'doctor'" in p for p in unknown_commands(docs_copy, gone))
    gone = _without_command(build_parser(), "report", "submit")
    assert any("no command 'submit'" in p for p in unknown_commands(docs_copy, gone))
    p = build_parser()
    report = _subparsers(p).choices["report"]
    submit = _subparsers(report).choices["submit"]
    del submit._option_string_actions["--late-reason"]
    assert any("--late-reason" in x for x in unknown_commands(docs_copy, p))


def test_command_check_fails_when_the_docs_show_a_command_that_does_not_exist(docs_copy, parser):
    (docs_copy / "docs" / "extra.md").write_text(
        "```sh\nxueji-duty incident frobnicate 2026-001\nxueji-duty deadlines --soon\n```\n"
        "Inline: `xueji-duty teleport`.\n", encoding="utf-8")
    problems = unknown_commands(docs_copy, parser)
    assert len(problems) == 2 + 1, problems


def test_key_check_fails_when_a_key_binding_is_removed(docs_copy):
    assert unknown_keys(docs_copy) == []

    def board_without_n(spec):
        keys = screen_keys(spec)
        return keys - {"n"} if spec == "board" else keys
    assert any("'n' is not a key of board" in p for p in unknown_keys(docs_copy, board_without_n))


def test_key_check_fails_when_the_docs_list_a_key_the_screen_lacks(docs_copy):
    (docs_copy / "docs" / "extra.md").write_text(
        "<!-- keys: incident -->\n| key | does |\n|---|---|\n| `e` | edit |\n| `z` | nothing |\n",
        encoding="utf-8")
    assert unknown_keys(docs_copy) == ["docs/extra.md:5: 'z' is not a key of incident"]
