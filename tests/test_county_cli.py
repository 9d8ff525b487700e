"""The bureau's county commands through the real CLI against a real PostgreSQL."""
import json

from tests.conftest import run_cli


def test_init_add_school_and_bureau_print_secrets_once(pg, tmp_path):
    db = pg.new_database()
    url = pg.admin_url(db)
    r = run_cli("county", "init", "--url", url, "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"version": 1}
    r = run_cli("county", "add-school", "S001", "沾益县海峰中学", "--url", url, "--json")
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert got["school"] == "S001" and got["role"] == "xj_s_s001" and len(got["secret"]) >= 24
    r = run_cli("county", "add-school", "S001", "重复", "--url", url)
    assert r.returncode == 1 and "已登记" in r.stderr + r.stdout and "Traceback" not in r.stderr
    r = run_cli("county", "add-school", "S 1;drop", "x", "--url", url)
    assert r.returncode == 1 and "学校代码" in r.stderr + r.stdout
    r = run_cli("county", "add-bureau", "jijiaoke", "--url", url)
    assert r.returncode == 0 and "jijiaoke" in r.stdout


def test_bad_or_unreachable_server_is_one_clear_line(pg, tmp_path):
    r = run_cli("county", "init")
    assert r.returncode == 1 and "--url" in r.stderr + r.stdout
    r = run_cli("county", "init", "--url", "mysql://x")
    assert r.returncode == 1 and "postgresql://" in r.stderr + r.stdout
    r = run_cli("county", "init", "--url", f"postgresql://nobody:x@127.0.0.1:{pg.port + 1}/county")
    assert r.returncode == 1 and "连不上县级服务器" in r.stderr + r.stdout and "Traceback" not in r.stderr
    # A school's login may not initialise or register schools: refused before anything changes,
    # one line naming the superuser's login it needs (exit 2, as county init's; county2).
    db = pg.new_database()
    run_cli("county", "init", "--url", pg.admin_url(db))
    r = run_cli("county", "add-school", "S002", "金龙中学", "--url", pg.admin_url(db), "--json")
    secret = json.loads(r.stdout)["secret"]
    r = run_cli("county", "add-school", "S003", "x", "--url", pg.url_for("xj_s_s002", secret, db))
    assert r.returncode == 2 and "超级用户" in r.stderr + r.stdout and "Traceback" not in r.stderr
