"""Every file the desk writes with personal data in it is 0600 and every folder 0700 (issue 13);
outputs refuse anything but a regular file; CSV formulas and Markdown HTML are made inert."""
from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from tests.conftest import ROOT, T0, make_ctx, run_cli

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX modes")


@pytest.fixture
def umask022():
    old = os.umask(0o022)          # the usual default: files 0644, folders 0755 unless we say otherwise
    yield
    os.umask(old)


def _modes(root: Path, skip: set[Path]) -> dict[str, str]:
    """Every file and folder under ``root`` (but the ones the test made itself) with a mode too open."""
    bad = {}
    for p in [root, *root.rglob("*")]:
        if p in skip or any(s in p.parents for s in skip) or p == root:
            continue
        mode = stat.S_IMODE(p.lstat().st_mode)
        want = 0o700 if p.is_dir() else 0o600
        if mode != want:
            bad[str(p.relative_to(root))] = oct(mode)
    return bad


def test_every_file_the_desk_writes_is_private(tmp_path, clock, umask022):
    from models import backup, contacts_csv, documents
    from models.demo import seed_demo
    from models.evidence import add_evidence
    from models.export import export_to
    from models.outfile import write_output
    from models.store import open_store
    from models.tables import Report
    data = tmp_path / "desk"
    data.mkdir(mode=0o700)
    usb = tmp_path / "usb"
    usb.mkdir()
    (usb / "log.txt").write_text("evidence")
    os.chmod(usb / "log.txt", 0o644)
    store = open_store(data / "duty.db")
    ctx = make_ctx(store, clock)
    demo = seed_demo(ctx)
    add_evidence(ctx, demo.overdue.code, usb / "log.txt", copy=True)
    out = data / "out"                                     # created by the first export: 0700
    export_to(ctx, out / "export.json")
    report = Report.select().first()
    for fmt in ("docx", "md", "txt"):
        documents.export(ctx, report, fmt, out / f"report.{fmt}")
    contacts_csv.export_csv(out / "contacts.csv")
    write_output(out / "drill.md", b"# drill\n")
    result = backup.create_backup(ctx, data / "backups")
    store.close()
    backup.restore_backup(data / "duty.db", result.path, now=T0)       # pre-restore copies, restored db
    backup.restore_backup(data / "fresh.db", result.path, now=T0,      # a restore into a new database
                          key_file=data / "duty.db.key")           # (a plain one: with its key, issue 13)
    old = data / "old.db"                                               # a migration's .bak copy
    shutil.copyfile(ROOT / "tests" / "data" / "release-0.1.db", old)
    os.chmod(old, 0o600)
    open_store(old).close()
    written = sorted(p.name for p in data.rglob("*"))
    assert any(n.endswith(".bak") for n in written), written
    assert any("pre-restore" in n for n in written), written
    assert _modes(data, skip=set()) == {}, written


def test_an_output_never_goes_through_a_device_fifo_or_symlink(tmp_path, clock):
    from models.outfile import OutputRefused, write_output
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    target = tmp_path / "precious"
    target.write_text("keep")
    link = tmp_path / "link"
    link.symlink_to(target)
    for bad in (fifo, link, tmp_path, Path(""), Path("/dev/null")):
        with pytest.raises(OutputRefused):
            write_output(bad, b"x")
    assert target.read_text() == "keep" and link.is_symlink() and stat.S_ISFIFO(fifo.lstat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo", "link", "precious"]   # no temp left


def test_export_to_a_device_or_empty_name_is_refused_by_the_cli(tmp_path):
    db = tmp_path / "d.db"
    run_cli("init", "--school", "海峰中学", "--db", str(db))
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for target in (str(fifo), "", str(tmp_path)):
        r = run_cli("export", "-o", target, "--db", str(db))
        assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_csv_formulas_are_neutralised_on_export_and_refused_on_import(tmp_path, ctx):
    from models import contacts_csv
    from models.contacts import add_contact
    add_contact(ctx, {"role": "leader", "name": '=HYPERLINK("http://evil","x")', "mobile": "+86 138 0000 0001",
                      "notes": "@SUM(1)"})
    path = tmp_path / "c.csv"
    contacts_csv.export_csv(path)
    text = path.read_bytes().decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "'@SUM" in text and "'+86 138" in text
    assert "\r\n=" not in text and ",=" not in text and ",@" not in text
    rows, problems, _ = contacts_csv.parse_rows(text)          # our own export reads back as it was
    assert problems == []
    assert {r["name"] for _, r in rows} >= {'=HYPERLINK("http://evil","x")'}
    hostile = "姓名,角色,手机\r\n=cmd|' /C calc'!A0,leader,13800000000\r\n李老师,leader,+86 138 0000 0002\r\n"
    rows, problems, _ = contacts_csv.parse_rows(hostile)
    assert [line for line, _ in problems] == [2], problems      # the formula flagged, the phone number not
    assert "公式" in problems[0][1]


def test_markdown_export_escapes_html_and_drops_other_links():
    from models.text import md_safe
    assert md_safe("<script>x</script>") == "&lt;script&gt;x&lt;/script&gt;"
    assert md_safe("[看这里](javascript:alert(1))").startswith("看这里")
    assert "javascript" not in md_safe("[看这里](javascript:alert(1))")
    assert md_safe("[官网](https://example.edu.cn/)") == "[官网](https://example.edu.cn/)"
    assert "data:" not in md_safe("![x](data:text/html;base64,PHNjcmlwdD4=)")


def test_a_group_writable_folder_shares_with_the_group_like_the_database(tmp_path, umask022):
    from models.outfile import private_dir, write_output
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o2770)                       # several OS users, one database (README)
    write_output(shared / "export.json", b"{}")
    private_dir(shared / "evidence" / "2026-001")
    assert stat.S_IMODE((shared / "export.json").stat().st_mode) == 0o660
    assert stat.S_IMODE((shared / "evidence").stat().st_mode) & 0o777 == 0o770
    assert stat.S_IMODE((shared / "evidence" / "2026-001").stat().st_mode) & 0o777 == 0o770
