"""Stored text never reaches a terminal raw (issue 13): the CLI and the TUI write no control byte
beyond their own rendering, and no OSC, whatever an import, a forged backup or a file name holds."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import unicodedata
from datetime import timedelta

import pytest

from models.text import UNSAFE, safe_display, safe_json_text, strip_controls
from tests.conftest import ROOT, T0, make_ctx

HOSTILE = (
    "\x1b[2J",                                   # clear the screen
    "\x1b]0;PWNED\x07",                          # OSC 0: the window title
    "\x1b]8;;http://evil.example/\x1b\\link\x1b]8;;\x1b\\",   # OSC 8 hyperlink
    "\x1b]52;c;cm0gLXJmIH4K\x07",                # OSC 52: write `rm -rf ~` to the clipboard
    "\x07",                                      # BEL
    "abc\rXYZ",                                  # CR: overwrite the line
    "\x9b2J",                                    # C1 CSI
    "\x9d0;T\x9c",                               # C1 OSC … ST
    "\u202eexe.txt",                             # right-to-left override
    "zero\u200bwidth",                           # zero-width space
    "line\u2028sep",                             # line separator
    "para\u2029sep",                             # paragraph separator
    "\x08\x08\x7f",                              # backspaces, DEL
    "\u2066iso\u2069\u202a",                     # isolates, embedding
    "\x1bP1$r\x1b\\",                            # DCS
    "\ufeff\u2060\U000e0041",                    # BOM, word joiner, a tag character
)
ALL = "".join(HOSTILE)

# The free-text columns a user, an import or a forged backup can fill (codes and enums are validated).
TEXT_COLUMNS = {
    "incident": ("title", "location", "asset", "reported_by", "description", "delay_reason", "created_by"),
    "report": ("recipient", "receipt_confirmed_by", "late_reason", "correction_reason", "submitted_by"),
    "evidence": ("collected_by", "custody_note"),
    "note": ("author", "text"),
    "contact": ("name", "department", "mobile", "office", "notes"),
    "call_log": ("contact_name", "number", "said", "instructions", "logged_by"),
    "check": ("title", "responsible"),
    "check_run": ("done_by", "findings"),
    "registry_account": ("login", "holder", "role", "notes"),
    "data_use": ("who", "data", "purpose", "approved_by", "recipient", "recorded_by"),
    "warning": ("source", "content", "created_by", "lifted_by"),
    "warning_action": ("department", "action", "done_by"),
    "user": ("display_name",),
    "audit_event": ("reason", "actor", "origin"),
    "backup_record": ("path", "message"),
    "login_token": ("label",),
    "login_failure": ("origin",),
}


# --- the function itself ---------------------------------------------------------------------------

def test_format_characters_are_all_known():
    """The hard-coded Cf ranges cover every format character this Python knows."""
    missing = [hex(i) for i in range(0x110000) if unicodedata.category(chr(i)) == "Cf" and not UNSAFE.match(chr(i))]
    assert missing == []


@pytest.mark.parametrize("s", HOSTILE)
def test_safe_display_leaves_nothing_unsafe_and_shows_it(s):
    out = safe_display(s, one_line=True)
    assert not UNSAFE.search(out) and "\n" not in out
    assert "\\x" in out or "\\u" in out or "\\U" in out     # visibly escaped, not silently dropped


def test_plain_text_is_untouched():
    text = "学籍系统异常 [bold]x[/] \\n\n\t(演示)"
    assert safe_display(text) == text
    assert strip_controls(text) == text


def test_input_cleaning_uses_the_same_classes():
    cleaned = strip_controls(ALL)
    assert not UNSAFE.search(cleaned)
    from tui.widgets.safe_input import clean_control
    assert clean_control(ALL, multiline=True) == cleaned
    assert clean_control("a\nb\tc\x85d") == "abcd"
    assert strip_controls("gbk \udcb2\udce2") == "gbk \ufffd\ufffd"   # undecodable bytes shown as lost


def test_surrogate_escaped_bytes_show_as_the_bytes():
    assert safe_display("\udcb2\udce2.txt") == "\\xb2\\xe2.txt"


def test_json_escaping_keeps_the_value():
    data = {"t": ALL + "\udcb2", "n": [1, "学籍"]}
    raw = safe_json_text(json.dumps(data, ensure_ascii=False))
    assert not UNSAFE.search(raw)
    assert json.loads(raw) == data


# --- the whole CLI -----------------------------------------------------------------------------------

def _hostile_database(tmp_path, clock):
    """The demo school with every free-text field, the school name and an evidence file name hostile."""
    from models.demo import seed_demo
    from models.evidence import add_evidence
    from models.notes import add_note
    from models.store import open_store
    from models.tables import Setting
    db = tmp_path / "hostile.db"
    store = open_store(db)
    ctx = make_ctx(store, clock)
    demo = seed_demo(ctx)
    folder = tmp_path / "usb"
    folder.mkdir()
    name = "log\x1b]0;T\x07\x1b]52;c;cm0gLXJmIH4K\x07\x1b[2J\u202e\x9b.txt"
    (folder / name).write_text("evidence")
    add_evidence(ctx, demo.overdue.code, folder / name, copy=True)
    add_evidence(ctx, demo.overdue.code, folder / name, copy=False)
    add_note(ctx, demo.overdue.code, "note")
    from models.calls import log_call
    from models.checks import complete_check, get_check
    from models.tables import Contact
    complete_check(ctx, get_check("security_check").id, findings="ok")
    log_call(ctx, demo.overdue.code, Contact.select().first().id, "reached", said="ok")
    with store.write():
        for table, columns in TEXT_COLUMNS.items():
            for col in columns:
                store.db.execute_sql(f'UPDATE "{table}" SET "{col}" = ?', (f"{col}:{ALL}",))
        Setting.update(value=f"学校{ALL}[/x]").where(Setting.key == "school_name").execute()
        # free text inside JSON columns: a report's fields and a check's checklist
        from models.tables import Check as CheckRow, Report
        for rep in Report.select():
            rep.fields = {k: (f"{k}:{ALL}" if isinstance(v, str) or v is None else v) for k, v in rep.fields.items()} \
                or {"summary": f"summary:{ALL}"}
            rep.save()
        CheckRow.update(checklist=[f"item:{ALL}"]).execute()
    store.close()
    return db, demo


# One process runs every command (each as ``main(argv)`` with fresh byte-capturing streams), so
# the check costs one interpreter start, not forty.
_DRIVER = r"""
import io, json, sys
from tui.cli import main
results = []
for argv in json.loads(sys.argv[1]):
    out, err = io.BytesIO(), io.BytesIO()
    sys.stdout = io.TextIOWrapper(out, encoding="utf-8", write_through=True)
    sys.stderr = io.TextIOWrapper(err, encoding="utf-8", write_through=True)
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    except BaseException as exc:
        import traceback
        err.write(("Traceback " + traceback.format_exc()).encode())
        code = -1
    results.append([code, out.getvalue().hex(), err.getvalue().hex()])
sys.__stdout__.write(json.dumps(results))
"""


def _run_all(commands: list[list[str]]) -> list[tuple[int, bytes, bytes]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", _DRIVER, json.dumps(commands)], capture_output=True,
                          env=env, timeout=120, cwd=str(ROOT), stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    return [(c, bytes.fromhex(o), bytes.fromhex(e)) for c, o, e in json.loads(proc.stdout)]


def _assert_clean(out: bytes, what: str) -> None:
    text = out.decode("utf-8", errors="surrogateescape")
    bad = sorted({hex(ord(c)) for c in UNSAFE.findall(text)})
    assert not bad, f"{what}: {bad}\n{text[:2000]}"
    assert b"\x1b" not in out and b"\x07" not in out, what


def test_cli_prints_no_control_character_from_stored_text(tmp_path, clock):
    db, demo = _hostile_database(tmp_path, clock)
    code = demo.overdue.code
    commands = [
        ("incident", "list", "--all"), ("incident", "show", code), ("evidence", "list", code),
        ("evidence", "verify"), ("contact", "list"), ("contact", "tree", "show"), ("call", "list", code),
        ("warning", "list", "--all"), ("account", "list", "--all"), ("check", "list", "--all"),
        ("check", "show", "1"), ("ledger", "list"), ("drill", "list"), ("user", "list"),
        ("deadlines",), ("stats",), ("doctor",), ("audit", "verify"), ("report", "show", code, "oral"),
        ("check",),
    ]
    runs = [list(cmd) + list(extra) + ["--db", str(db)] for cmd in commands for extra in ((), ("--json",))
            if not (extra and cmd[0] in ("stats", "audit"))]
    seen_escape = False
    for argv, (rc, out, err) in zip(runs, _run_all(runs)):
        assert b"Traceback" not in err, err.decode(errors="replace")
        _assert_clean(out + err, " ".join(argv))
        seen_escape |= b"\\x1b" in out or b"\\u001b" in out
        if "--json" in argv and rc == 0:
            json.loads(out)                        # JSON stays valid JSON
    assert seen_escape            # the hostile text was shown (escaped), not just absent
    listing = _run_all([["evidence", "list", code, "--db", str(db)]])[0][1].decode()
    assert "log\\x1b]0;T\\x07" in listing          # the file's real name, shown escaped


# --- the TUI on a pseudo-terminal ---------------------------------------------------------------------

# The app's own rendering: CSI sequences (cursor, colours, modes), charset selection, and the
# keypad/cursor save sequences. Anything else starting with ESC, and any OSC, is not ours.
_OWN = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[78=>]")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pseudo-terminal")
def test_tui_writes_no_control_byte_from_stored_text(tmp_path, clock):
    from bench.ptyrun import PtyApp
    from models.accounts import create_user
    from models.store import open_store
    db, demo = _hostile_database(tmp_path, clock)
    store = open_store(db)
    create_user(make_ctx(store, clock), "duty", "officer", "值班员", "Duty-passw0rd!")
    store.close()
    app = PtyApp("--db", str(db), "--no-mouse", module="tui",
                 env={"XUEJI_DUTY_AUTO_BACKUP": "0", "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"})
    try:
        assert app.wait_for("学校\\x1b[2J", timeout=60) is not None      # the pre-login school name, escaped
        os.write(app.master, b"duty\r")
        os.write(app.master, b"Duty-passw0rd!\r")
        assert app.wait_for("title:", timeout=30) is not None              # the board's incident titles
        mark = app.size()
        os.write(app.master, b"\r")                                        # open the selected incident
        assert app.wait_for("description:", timeout=30, since=mark) is not None
        mark = app.size()
        os.write(app.master, b"2")                                         # the timeline tab
        assert app.wait_for("\\x1b]0;", timeout=30, since=mark) is not None
        mark = app.size()
        os.write(app.master, b"3")                                         # the evidence tab
        assert app.wait_for("log\\x1b]0;T\\x07", timeout=30, since=mark) is not None
        time.sleep(0.5)        # let the tab finish drawing before the bytes are read
    finally:
        app.quit()
    with app.lock:
        raw = bytes(app.buffer)
    at = raw.find(b"\x1b]")
    assert at < 0, f"an OSC reached the terminal: {raw[at - 40:at + 60]!r}"
    assert "\x9d" not in raw.decode("utf-8", errors="surrogateescape"), "a C1 OSC reached the terminal"
    # With no OSC at all, a BEL can only be the board's own alarm bell (a leaked hostile BEL would
    # come with the ESC and C1 bytes stored beside it in every field, which are checked).
    rest = _OWN.sub(b"", raw).replace(b"\x07", b"").decode("utf-8", errors="surrogateescape")
    bad = sorted({hex(ord(c)) for c in UNSAFE.findall(rest) if c not in "\r"})
    assert not bad, bad


async def test_notifications_show_stored_text_literally(tmp_path, clock):
    """A notification carries stored text; markup in it is shown, never parsed (``[/x]`` would stop the app)."""
    from tests.conftest import make_app
    from tests.ui_helpers import wait_for
    app = make_app(tmp_path / "n.db", clock)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        app.notify("标题 [/x] [bold]粗[/bold] \x1b]0;T\x07")
        await pilot.pause()
        assert await wait_for(pilot, lambda: any("[/x]" in str(n.message) for n in app._notifications))


        def shown() -> list[str]:
            return [str(w.render()) for w in app.screen.query("Toast")]
        assert await wait_for(pilot, lambda: any("[bold]" in t and "\\x1b]0;T\\x07" in t for t in shown())), shown()
