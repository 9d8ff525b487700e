"""The eleven CLI tracebacks of issue 13, each now a message (or silence, for a closed pipe), plus
``--password-stdin`` with ``--passphrase-stdin``, half-written and orphan evidence copies, and
the SSH origin's label."""
from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass

import pytest

from tests.conftest import ROOT
from tests.db_templates import copy_of

PW = "Duty-passw0rd!"
ENV = {"PYTHONPATH": str(ROOT)}


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def cli(*args, input: str = "", db=None) -> Ran:
    """The real ``main`` in this process (as the fuzzer runs it): byte arguments are decoded the way
    Python decodes a command line (``os.fsdecode``), so a GBK file name arrives as it would."""
    from tui.cli import main
    argv = [os.fsdecode(a) if isinstance(a, bytes) else a for a in args]
    if db is not None:
        argv += ["--db", str(db)]
    out, err = io.StringIO(), io.StringIO()
    old_stdin = sys.stdin
    sys.stdin = io.StringIO(input)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exc:
                code = exc.code
    finally:
        sys.stdin = old_stdin
    return Ran(code, out.getvalue(), err.getvalue())


def _make_desk(db) -> None:
    r = cli("init", "--school", "海峰中学", "--admin", "admin", "--password-stdin", db=db, input=f"{PW}\n{PW}\n")
    assert r.returncode == 0, r.stderr
    r = cli("incident", "new", "--title", "学籍账号异常登录", "--category", "malware", "--occurred", "-20m",
            "--user", "admin", "--password-stdin", db=db, input=PW + "\n")
    assert r.returncode == 0, r.stderr


@pytest.fixture
def desk(tmp_path_factory, tmp_path, memory_keyring):
    """A copy of a desk with its admin and one incident, made once (two scrypt verifications,
    slow on purpose, were ~1 s of each test's set-up)."""
    return copy_of("test_no_traceback.desk", "d.db", _make_desk, tmp_path_factory, tmp_path)


def _no_traceback(r) -> str:
    err = r.stderr
    assert "Traceback" not in err and "Exception ignored" not in err, err
    return err


def test_huge_ids_are_a_message(desk):
    huge = "99999999999999999999999"
    for argv in (("incident", "show", huge), ("contact", "edit", huge, "--name", "x"), ("check", "done", huge),
                 ("account", "used", huge), ("warning", "done", huge)):
        r = cli(*argv, "--user", "admin", "--password-stdin", db=desk, input=PW + "\n")
        err = _no_traceback(r)
        assert r.returncode in (1, 2) and err.strip(), argv


def test_a_closed_pipe_is_quiet(desk):
    for argv in (("incident", "list", "--all"), ("incident", "--help")):
        proc = subprocess.Popen([sys.executable, "-m", "tui", *argv, "--db", str(desk)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env={**os.environ, **ENV}, cwd=str(ROOT))
        proc.stdout.close()                        # `| head` that has already gone
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=60) in (0, 141), err
        assert "Traceback" not in err and "Exception ignored" not in err and "BrokenPipe" not in err, err


def test_a_gbk_named_file_registers_with_its_name_as_given(desk, tmp_path):
    name = "学籍日志.txt".encode("gbk")
    usb = tmp_path / "usb"
    usb.mkdir()
    path = os.fsencode(usb) + b"/" + name
    with open(path, "wb") as fh:
        fh.write(b"log")
    for extra in ((), (b"--copy",)):
        r = cli("evidence", "add", "2026-001", path, *extra, "--user", "admin", "--password-stdin",
                db=desk, input=PW + "\n")
        _no_traceback(r)
        assert r.returncode == 0, r.stderr
    rows = json.loads(cli("evidence", "list", "2026-001", "--json", db=desk).stdout)
    original = rows[0]["original_path"]
    assert "\\xbc\\xae" in original                 # the undecodable bytes kept, written \xNN
    assert "\\xbc\\xae" in cli("evidence", "list", "2026-001", db=desk).stdout
    assert cli("evidence", "verify", db=desk).returncode == 0         # the original is found again
    assert rows[1]["stored_path"].endswith("学籍日志.txt")              # our copy has a readable name
    r = cli("incident", "new", "--title", b"\xb2\xe2\xca\xd4", "--category", "malware", "--occurred",
            "-5m", "--user", "admin", "--password-stdin", db=desk, input=PW + "\n")
    assert r.returncode == 0 and _no_traceback(r) == "", r.stderr
    r = cli("incident", "show", b"2026-\xb2", db=desk)
    assert r.returncode == 1 and _no_traceback(r).strip()


def test_empty_output_folder_db_and_bad_imports_are_messages(desk, tmp_path):
    r = cli("export", "-o", "", "--user", "admin", "--password-stdin", db=desk, input=PW + "\n")
    assert r.returncode == 1 and _no_traceback(r).strip()
    r = cli("report", "export", "2026-001", "oral", "-o", "", db=desk)
    assert r.returncode in (1, 2) and _no_traceback(r).strip()
    r = cli("incident", "list", db=tmp_path)
    assert r.returncode == 1 and "文件夹" in _no_traceback(r)
    out = tmp_path / "e.json"
    assert cli("export", "-o", str(out), "--user", "admin", "--password-stdin", db=desk,
               input=PW + "\n").returncode == 0
    data = json.loads(out.read_text())
    for change in ({"format_version": "x"}, {"format_version": None},
                   {"evidence": [{"path": p, "data": "", "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                                  "size": 0} for p in ("a/b", "a")]}):
        bad = tmp_path / "bad.json"
        bad.write_text(json.dumps({**data, **change}))
        r = cli("import", str(bad), db=tmp_path / f"new-{len(list(tmp_path.iterdir()))}.db")
        assert r.returncode == 1 and _no_traceback(r).strip(), change


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pseudo-terminal")
def test_ctrl_d_at_the_prompts_is_a_message(desk):
    from bench.ptyrun import PtyApp
    for answers in ([b"\x04"], [b"admin\r", b"\x04"]):          # at the user name, then at the password
        app = PtyApp("incident", "new", "--title", "x", "--category", "malware", "--occurred", "-5m",
                     "--db", str(desk), module="tui")
        try:
            for i, keys in enumerate(answers):
                assert app.wait_for("：" if i == 0 else "admin", timeout=30) is not None
                time.sleep(0.2)                                 # the prompt is reading now
                os.write(app.master, keys)
            code = app.proc.wait(timeout=30)
        finally:
            app.close()
        text = bytes(app.buffer).decode("utf-8", errors="replace")
        assert code == 1 and "Traceback" not in text and "Ctrl+D" in text, text


def test_password_then_passphrase_one_line_each(desk, tmp_path):
    """`--password-stdin --passphrase-stdin`: the first line is the password, the second the passphrase."""
    r = cli("backup", str(tmp_path / "bk"), "--encrypt", "--passphrase-stdin", "--user", "admin",
            "--password-stdin", db=desk, input=f"{PW}\nbackup-phrase-1\n")
    assert r.returncode == 0, r.stderr
    archive = next((tmp_path / "bk").iterdir())
    r = cli("backup", "--verify", str(archive), "--passphrase-stdin", db=desk, input="backup-phrase-1\n")
    assert r.returncode == 0, r.stderr


def test_check_reports_half_written_and_orphan_copies(desk, tmp_path, monkeypatch):
    src = tmp_path / "log.txt"
    src.write_text("evidence")
    assert cli("evidence", "add", "2026-001", str(src), "--copy", "--user", "admin", "--password-stdin",
               db=desk, input=PW + "\n").returncode == 0
    folder = desk.parent / "d-evidence" / "2026-001"
    assert "未写完" not in cli("check", db=desk).stdout
    (folder / ".log-2.txt.part").write_bytes(b"half")      # what a kill during the copy leaves
    (folder / "stray.txt").write_bytes(b"no record")
    r = cli("check", db=desk)
    assert r.returncode == 1
    assert "未写完" in r.stdout and "没有登记记录" in r.stdout and "stray.txt" in r.stdout, r.stdout


def test_ssh_origin_is_labelled_as_reported_by_the_environment(monkeypatch):
    from models.context import origin_of_session
    monkeypatch.setenv("SSH_CONNECTION", "203.0.113.5 50000 10.0.0.1 22")
    assert origin_of_session() == "ssh 203.0.113.5 (reported by SSH_CONNECTION)"
    monkeypatch.setenv("SSH_CONNECTION", "\x1b]0;evil\x07 1 2 3")
    assert origin_of_session() == "ssh ? (reported by SSH_CONNECTION)"
