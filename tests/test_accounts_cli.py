"""Accounts through the real command in real processes: bootstrap, authentication, roles, lockout."""
from __future__ import annotations

import json
import sqlite3

import pytest

from tests.conftest import run_cli
from tests.db_templates import copy_of

PW = "Admin-pass-2026"
ZPW = "Zhang-pass-2026"
NEW = ["incident", "new", "--title", "学籍账号异常登录", "--category", "network_attack", "--occurred", "-10m"]


def _init(path) -> None:
    r = run_cli("init", "--school", "海峰中学", "--admin", "admin", "--name", "王老师", "--password-stdin",
                "--db", str(path), input=PW + "\n")
    assert r.returncode == 0, r.stderr
    assert "admin" in r.stdout


@pytest.fixture
def db(tmp_path_factory, tmp_path):
    """A copy of a database the real ``init`` made once with its admin (a process and a scrypt
    verifier, ~1.4 s, for each test)."""
    return str(copy_of("test_accounts_cli.db", "acc.db", _init, tmp_path_factory, tmp_path))


def audit_rows(db, action):
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT actor, origin, entity_id FROM audit_event WHERE action=? ORDER BY id",
                           (action,)).fetchall()
    finally:
        con.close()


def test_bootstrap_mode_takes_user_as_given_only_while_there_are_no_accounts(tmp_path):
    path = str(tmp_path / "boot.db")
    assert run_cli("init", "--school", "海峰中学", "--db", path).returncode == 0
    r = run_cli(*NEW, "--user", "zhang", "--db", path)
    assert r.returncode == 0, r.stderr
    # The first admin can still be added to an initialised database, and then --user is not enough.
    r = run_cli("init", "--admin", "admin", "--password-stdin", "--db", path, input=PW + "\n")
    assert r.returncode == 0, r.stderr
    r = run_cli(*NEW, "--user", "zhang", "--db", path)
    assert r.returncode == 1 and "--password-stdin" in r.stderr and "Traceback" not in r.stderr


def test_writing_needs_a_password_once_accounts_exist(db):
    r = run_cli(*NEW, "--user", "admin", "--db", db)
    assert r.returncode == 1 and "验证身份" in r.stderr
    r = run_cli(*NEW, "--user", "admin", "--password-stdin", "--db", db, input="wrong-password\n")
    assert r.returncode == 1 and "用户名或密码不正确" in r.stderr
    r = run_cli(*NEW, "--user", "admin", "--password-stdin", "--json", "--db", db, input=PW + "\n")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["code"].endswith("-001")
    assert audit_rows(db, "incident.create")[0][:2] == ("admin", "local")
    # Reading needs nothing.
    assert run_cli("incident", "list", "--db", db).returncode == 0


def test_a_viewer_cannot_write_through_the_cli(db):
    r = run_cli("user", "add", "guest", "--role", "viewer", "--user", "admin", "--password-stdin",
                "--db", db, input=f"{PW}\nGuest-pass-2026\n")
    assert r.returncode == 0, r.stderr
    r = run_cli(*NEW, "--user", "guest", "--password-stdin", "--db", db, input="Guest-pass-2026\n")
    assert r.returncode == 1 and "权限不足" in r.stderr and "值班员" in r.stderr
    r = run_cli("user", "add", "x2", "--role", "admin", "--user", "guest", "--password-stdin", "--db", db,
                input="Guest-pass-2026\nWhatever-pass-1\n")
    assert r.returncode == 1 and "管理员" in r.stderr
    assert [u["username"] for u in json.loads(run_cli("user", "list", "--json", "--user", "admin",
                                                      "--password-stdin", "--db", db, input=PW + "\n").stdout)] \
        == ["admin", "guest"]


def test_lockout_and_unlock_from_the_cli_are_audited(db):
    run_cli("user", "add", "zhang", "--role", "officer", "--name", "张老师", "--user", "admin",
            "--password-stdin", "--db", db, input=f"{PW}\n{ZPW}\n")
    for i in range(5):
        r = run_cli(*NEW, "--user", "zhang", "--password-stdin", "--db", db, input=f"bad-{i}-password\n",
                    env={"SSH_CONNECTION": "203.0.113.9 5000 10.0.0.1 22"})
        assert r.returncode == 1
    assert "锁定" in r.stderr
    r = run_cli(*NEW, "--user", "zhang", "--password-stdin", "--db", db, input=ZPW + "\n")
    assert r.returncode == 1 and "锁定" in r.stderr
    users = json.loads(run_cli("user", "list", "--json", "--user", "admin", "--password-stdin", "--db", db,
                               input=PW + "\n").stdout)
    assert next(u for u in users if u["username"] == "zhang")["locked_until"]
    r = run_cli("user", "unlock", "zhang", "--user", "admin", "--password-stdin", "--db", db, input=PW + "\n")
    assert r.returncode == 0, r.stderr
    assert run_cli(*NEW, "--user", "zhang", "--password-stdin", "--db", db, input=ZPW + "\n").returncode == 0
    fails = audit_rows(db, "login.fail")
    assert len(fails) == 5 and {f[1] for f in fails} == {"ssh 203.0.113.9 (reported by SSH_CONNECTION)"}
    assert audit_rows(db, "user.lockout")[0][2] == "zhang"
    assert audit_rows(db, "user.unlock")[0][0] == "admin"
    assert run_cli("audit", "verify", "--db", db).returncode == 0


def test_passwd_disable_and_role(db):
    run_cli("user", "add", "zhang", "--role", "officer", "--user", "admin", "--password-stdin", "--db", db,
            input=f"{PW}\n{ZPW}\n")
    r = run_cli("user", "passwd", "--user", "zhang", "--password-stdin", "--db", db, input=f"{ZPW}\nshort\n")
    assert r.returncode == 1 and "至少 10" in r.stderr
    r = run_cli("user", "passwd", "--user", "zhang", "--password-stdin", "--db", db, input=f"{ZPW}\nZhang-2nd-pass\n")
    assert r.returncode == 0, r.stderr
    r = run_cli("user", "passwd", "zhang", "--user", "admin", "--password-stdin", "--db", db,
                input=f"{PW}\nZhang-3rd-pass\n")
    assert r.returncode == 0, r.stderr
    r = run_cli("user", "role", "zhang", "leader", "--user", "admin", "--password-stdin", "--db", db, input=PW + "\n")
    assert r.returncode == 0
    r = run_cli("user", "disable", "zhang", "--user", "admin", "--password-stdin", "--db", db, input=PW + "\n")
    assert r.returncode == 0
    r = run_cli(*NEW, "--user", "zhang", "--password-stdin", "--db", db, input="Zhang-3rd-pass\n")
    assert r.returncode == 1 and "停用" in r.stderr
    r = run_cli("user", "disable", "admin", "--user", "admin", "--password-stdin", "--db", db, input=PW + "\n")
    assert r.returncode == 1 and "最后一个" in r.stderr


def test_init_force_needs_an_admin_once_accounts_exist(db):
    r = run_cli("init", "--school", "别的学校", "--force", "--db", db)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    r = run_cli("init", "--school", "别的学校", "--force", "--user", "admin", "--password-stdin", "--db", db,
                input=PW + "\n")
    assert r.returncode == 0, r.stderr


def test_remembered_login_across_processes_and_logout(db, tmp_path):
    kenv = {"PYTHON_KEYRING_BACKEND": "tests.keyrings.FileKeyring",
            "XUEJI_TEST_KEYRING_FILE": str(tmp_path / "test-keyring.json")}
    r = run_cli("login", "--user", "admin", "--password-stdin", "--db", db, input=PW + "\n", env=kenv)
    assert r.returncode == 0, r.stderr
    stored = (tmp_path / "test-keyring.json").read_text()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("acc.db*"))
    token = json.loads(stored)[next(iter(json.loads(stored)))]
    assert token.encode() not in raw
    r = run_cli(*NEW, "--json", "--db", db, env=kenv)        # no --user, no password: remembered
    assert r.returncode == 0, r.stderr
    assert audit_rows(db, "incident.create")[-1][0] == "admin"
    # Account management still wants the password.
    r = run_cli("user", "list", "--db", db, env=kenv)
    assert r.returncode == 1
    r = run_cli("logout", "--db", db, env=kenv)
    assert r.returncode == 0 and "admin" in r.stdout
    assert audit_rows(db, "logout")
    r = run_cli(*NEW, "--db", db, env=kenv)
    assert r.returncode == 1 and "验证身份" in r.stderr


def test_no_secure_keyring_means_no_remembering_and_no_file(db, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home), "XDG_DATA_HOME": str(home / "data"), "XDG_CONFIG_HOME": str(home / "cfg")}
    r = run_cli("login", "--user", "admin", "--password-stdin", "--db", db, input=PW + "\n", env=env)
    assert r.returncode == 1 and "无法在本终端记住登录" in r.stderr and "Traceback" not in r.stderr
    assert list(home.rglob("*")) == []          # nothing was written anywhere instead
    r = run_cli("logout", "--db", db, env=env)
    assert r.returncode == 1 and "密钥环" in r.stderr
    # A writing command says in one line that there is no keyring, then wants the password.
    r = run_cli(*NEW, "--user", "admin", "--db", db, env=env)
    assert r.returncode == 1 and "没有可用的安全密钥环" in r.stderr and r.stderr.count("\n") == 2
