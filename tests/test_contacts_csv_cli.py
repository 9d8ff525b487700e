"""CSV round trips in both encodings, all-or-nothing imports, and the real `contact`/`call` commands."""
import json

import pytest

from models.contacts import ensure_seeded, list_contacts
from models.contacts_csv import ImportRejected, export_csv, import_csv
from tests.conftest import run_cli

HEADER = "姓名,角色,部门,手机,办公电话,免打扰时段,备注,排序,在岗\r\n"
ROWS = ("陈云柱,组长（校长）,校长室,13900000001,,22:00-07:00,,0,是\r\n"
        "张学荣,副组长,,13900000002,0874-1234567,,分管学籍,1,是\r\n"
        "王有长,deputy,,13900000003,,,,2,否\r\n"
        "李科长,县教育局基教科,基教科,,0874-3000000 转 8001,,\"值班, 24小时\",0,是\r\n")


def _people():
    return sorted((c.role, c.name, c.mobile, c.office, c.notes, c.active) for c in list_contacts() if c.name)


@pytest.mark.parametrize("encoding, bom", [("utf-8", True), ("utf-8", False), ("gbk", False)])
def test_import_then_export_round_trip(ctx, tmp_path, encoding, bom):
    ensure_seeded(ctx)
    src = tmp_path / "in.csv"
    src.write_bytes((b"\xef\xbb\xbf" if bom else b"") + (HEADER + ROWS).encode(encoding))
    res = import_csv(ctx, src)
    assert res.encoding == encoding and len(res.updated) == 3 and len(res.added) == 1  # 3 role slots filled
    first = _people()
    assert ("bureau", "李科长", "", "0874-3000000 转 8001", "值班, 24小时", True) in first
    assert ("deputy", "王有长", "13900000003", "", "", False) in first

    out = tmp_path / "out.csv"
    assert export_csv(out) == len(list_contacts())
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    assert "陈云柱" in data.decode("utf-8-sig")

    # Re-importing the export changes nothing: the empty role templates are skipped, the rest match.
    again = import_csv(ctx, out)
    assert again.added == [] and again.updated == [] and again.unchanged == 4 and again.skipped == 8
    assert _people() == first


def test_one_bad_row_imports_nothing_and_names_the_line(ctx, tmp_path):
    ensure_seeded(ctx)
    before = [(c.id, c.name, c.version) for c in list_contacts()]
    bad = ROWS.replace("张学荣,副组长,,13900000002", "张学荣,副校长兼保安,,139-abc")
    src = tmp_path / "bad.csv"
    src.write_bytes((HEADER + bad + "王有长,deputy,,13900000003,,,,2,是\r\n").encode("gbk"))
    with pytest.raises(ImportRejected) as exc:
        import_csv(ctx, src)
    lines = [line for line, _ in exc.value.problems]
    assert lines == [3, 6]   # row 3: bad role and number; row 6 repeats line 4
    msg = exc.value.message
    assert "第 3 行" in msg and "副校长兼保安" in msg and "139-abc" in msg and "第 4 行" in msg
    assert [(c.id, c.name, c.version) for c in list_contacts()] == before


def test_undecodable_and_misshapen_files_are_refused_with_a_reason(ctx, tmp_path):
    ensure_seeded(ctx)
    f = tmp_path / "x.csv"
    f.write_bytes(b"\xff\xfe" + "姓名".encode("utf-16-le"))
    with pytest.raises(Exception) as exc:
        import_csv(ctx, f)
    assert "UTF-16" in exc.value.message
    f.write_bytes("名字,电话\r\n张三,1\r\n".encode("utf-8"))
    with pytest.raises(ImportRejected) as exc:
        import_csv(ctx, f)
    assert exc.value.problems[0][0] == 1 and "名字" in exc.value.message


@pytest.fixture
def db(tmp_path):
    path = str(tmp_path / "cli.db")
    assert run_cli("init", "--school", "海峰中学", "--db", path).returncode == 0
    return path


def test_cli_contacts_and_a_call_that_is_the_oral_report(db, tmp_path):
    r = run_cli("contact", "list", "--json", "--db", db)
    assert r.returncode == 0, r.stderr
    assert [c["role"] for c in json.loads(r.stdout)][-3:] == ["bureau", "cac", "police"]

    r = run_cli("contact", "edit", "bureau", "--name", "李科长", "--office", "0874-3000000", "--user", "admin", "--db", db)
    assert r.returncode == 0 and "李科长" in r.stdout, r.stderr
    r = run_cli("contact", "add", "--role", "班主任", "--name", "赵老师", "--mobile", "13900000020",
                "--json", "--user", "admin", "--db", db)
    teacher = json.loads(r.stdout)
    assert teacher["role"] == "class_teacher"

    inc = json.loads(run_cli("incident", "new", "--title", "学籍系统中毒", "--category", "malware",
                             "--occurred", "-20m", "--json", "--user", "admin", "--db", db).stdout)
    r = run_cli("call", "log", inc["code"], "--contact", "bureau", "--outcome", "reached", "--user", "admin", "--db", db)
    assert r.returncode == 1 and "口头报告" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("call", "log", inc["code"], "--contact", "bureau", "--outcome", "reached", "--notes", "已报告中毒情况",
                "--instructions", "立即断网", "--json", "--user", "admin", "--db", db)
    assert r.returncode == 0, r.stderr
    logged = json.loads(r.stdout)
    assert logged["number"] == "0874-3000000" and len(logged["oral_reports"]) == 1
    shown = json.loads(run_cli("incident", "show", inc["code"], "--json", "--db", db).stdout)
    oral = next(o for o in shown["obligations"] if o["stage"] == "oral")
    assert oral["state"] == "met"

    r = run_cli("contact", "remove", f"#{teacher['id']}", "--user", "admin", "--db", db)
    assert r.returncode == 0, r.stderr
    r = run_cli("call", "list", inc["code"], "--json", "--db", db)
    data = json.loads(r.stdout)
    assert data["calls"][0]["name"] == "李科长" and data["tree"]["steps"][-1]["state"] == "reached"
    # Nobody else has a number yet: the other steps are empty and there is nobody next to phone.
    assert [s["state"] for s in data["tree"]["steps"]][:4] == ["empty"] * 4 and data["tree"]["next_contact"] is None


def test_cli_import_export_tree_and_mistakes(db, tmp_path):
    src = tmp_path / "in.csv"
    src.write_bytes((HEADER + ROWS).encode("gbk"))
    r = run_cli("contact", "import", str(src), "--user", "admin", "--db", db)
    assert r.returncode == 0 and "GBK" in r.stdout, r.stderr
    out = tmp_path / "out.csv"
    r = run_cli("contact", "export", str(out), "--db", db)
    assert r.returncode == 0 and out.read_bytes().startswith(b"\xef\xbb\xbf")

    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "某人,门卫,,123456,,,,,\r\n", encoding="utf-8")
    r = run_cli("contact", "import", str(bad), "--user", "admin", "--db", db)
    assert r.returncode == 1 and "第 2 行" in r.stderr and "门卫" in r.stderr and "Traceback" not in r.stderr

    r = run_cli("contact", "tree", "set", "new_incident", "学籍管理员", "leader", "bureau", "--user", "admin", "--db", db)
    assert r.returncode == 0, r.stderr
    tree = json.loads(run_cli("contact", "tree", "show", "new_incident", "--json", "--db", db).stdout)
    assert [s["role"] for s in tree[0]["steps"]] == ["registrar", "leader", "bureau"]
    r = run_cli("contact", "tree", "set", "new_incident", "leader", "--version", "1", "--user", "admin", "--db", db)
    assert r.returncode == 1 and "冲突" in r.stderr

    r = run_cli("contact", "add", "--role", "leader", "--name", "x", "--mobile", "abc", "--user", "admin", "--db", db)
    assert r.returncode == 1 and "abc" in r.stderr
    r = run_cli("call", "log", "2026-999", "--contact", "bureau", "--outcome", "reached", "--user", "admin", "--db", db)
    assert r.returncode == 1 and "2026-999" in r.stderr
    r = run_cli("--lang", "en", "call", "log", "1", "--contact", "nobody", "--outcome", "reached", "--user", "admin", "--db", db)
    assert r.returncode == 1 and "No incident" in r.stderr or "No contact" in r.stderr
