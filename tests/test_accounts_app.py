"""The accounts in the real app at 80×24: first-run setup, login, remembered login, idle lock, unlock."""
from __future__ import annotations

import time
from datetime import timedelta

import keyring
from keyring.backends import fail
from textual import events
from textual.widgets import DataTable, Input, Static

from models import accounts
from models.context import Actor, Context
from models.incidents import IncidentInput, create_incident
from models.school import is_initialised
from models.setup import first_run
from models.tables import AuditEvent, CheckRun, User
from tests.conftest import T0, env_for, make_ctx
from tests.keyrings import HangingKeyring
from tests.ui_helpers import wait_for
from screens.login import KEYRING_DELAY_S
from tui.app import DutyApp

PW = "Haifeng2026x"
TITLE = "学籍账号张某某异常登录"


def screen_name(app) -> str:
    return type(app.screen).__name__


def text_of(app, selector) -> str:
    return str(app.screen.query_one(selector, Static).render())


def seeded(db_path, clock, *extra_users):
    """A database set up as the setup screen leaves it, plus accounts and one incident."""
    env = env_for(db_path)
    store = env.store()
    boot = Context(store=store, actor=Actor(username="wangli", role="admin", origin="local"), clock=clock,
                   settings=env.settings)
    first_run(boot, "海峰中学", "县教育局基教科", "Asia/Shanghai", "wangli", "王丽", PW)
    admin = make_ctx(store, clock, role="admin", username="wangli")
    for name, role in extra_users:
        accounts.create_user(admin, name, role, "", PW)
    create_incident(admin, IncidentInput(title=TITLE, category="network_attack",
                                         occurred_at=T0 - timedelta(minutes=30), discovered_at=T0 - timedelta(minutes=20)))
    return env


def actions(*names):
    return list(AuditEvent.select().where(AuditEvent.action.in_(names)).order_by(AuditEvent.id))


async def log_in(pilot, user, password):
    await pilot.press(*user, "enter", *password, "enter")


def board_text(app) -> str:
    table = app.screen.query_one(DataTable)
    return " ".join(str(c) for r in range(table.row_count) for c in table.get_row_at(r))


async def test_first_run_setup_creates_the_school_and_admin_and_opens_the_board(tmp_path, clock):
    app = DutyApp(env_for(tmp_path / "new.db"), clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert screen_name(app) == "SetupScreen"
        await pilot.press("ctrl+q")   # quitting before setup is allowed and changes nothing
    assert not User.select().exists()

    app = DutyApp(env_for(tmp_path / "new.db"), clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press(*"海峰中学", "enter", "enter", "enter", *"wangli", "enter", *"王丽", "enter",
                          *PW, "enter", *"Different1x", "enter")
        assert await wait_for(pilot, lambda: "不一致" in text_of(app, "#setup-error"))
        assert not User.select().exists() and not is_initialised()   # nothing half-written
        app.screen.query_one("#setup-password2", Input).value = PW
        await pilot.press("ctrl+s")
        assert await wait_for(pilot, lambda: screen_name(app) == "BoardScreen")
        assert app.actor.username == "wangli" and app.actor.role == "admin"
        assert app.settings.school_name == "海峰中学"
    user = User.get(User.username == "wangli")
    assert user.display_name == "王丽" and PW not in (user.password_hash or "")
    assert [e.actor for e in actions("user.bootstrap")] == ["wangli"]
    assert memory_keyring_is_empty()


def memory_keyring_is_empty() -> bool:
    return not keyring.get_keyring().store   # "remember me" was not ticked


async def test_login_with_password_wrong_then_right_audited_with_origin(tmp_path, clock, monkeypatch):
    monkeypatch.setenv("SSH_CONNECTION", "198.51.100.7 50022 10.0.0.2 22")
    env = seeded(tmp_path / "d.db", clock)
    app = DutyApp(env, clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert screen_name(app) == "LoginScreen" and not app.logged_in
        await log_in(pilot, "wangli", "wrong-guess-1")
        assert await wait_for(pilot, lambda: "不正确" in text_of(app, "#login-error"))
        assert screen_name(app) == "LoginScreen"
        await pilot.press(*PW, "enter")    # the user name is still there; focus is on the password
        assert await wait_for(pilot, lambda: screen_name(app) == "BoardScreen" and TITLE in board_text(app))
    fail_ev, login_ev = actions("login.fail")[-1], actions("login")[-1]
    assert fail_ev.origin == login_ev.origin == "ssh 198.51.100.7 (reported by SSH_CONNECTION)"
    assert login_ev.actor == "wangli"


async def test_remembered_login_opens_the_board_and_logout_forgets_it(tmp_path, clock, memory_keyring):
    env = seeded(tmp_path / "r.db", clock)
    app = DutyApp(env, clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press(*"wangli", "enter")
        app.screen.query_one("#login-remember").value = True
        await pilot.press(*PW, "enter")
        assert await wait_for(pilot, lambda: screen_name(app) == "BoardScreen")
    service = f"xueji-duty:{env.store().identity}"
    token = memory_keyring.store[(service, "remembered-login")]
    assert token and token.encode() not in (tmp_path / "r.db").read_bytes()

    app = DutyApp(env_for(tmp_path / "r.db"), clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        assert await wait_for(pilot, lambda: screen_name(app) == "BoardScreen")
        assert app.actor.username == "wangli"
        assert actions("login")[-1].changes["via"] == "remembered"
        await app.logout()
        assert await wait_for(pilot, lambda: screen_name(app) == "LoginScreen")
    assert (service, "remembered-login") not in memory_keyring.store
    assert actions("logout")

    app = DutyApp(env_for(tmp_path / "r.db"), clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.3)
        assert screen_name(app) == "LoginScreen"


async def test_fail_backend_says_so_in_one_line_and_the_password_works(tmp_path, clock):
    keyring.set_keyring(fail.Keyring())
    env = seeded(tmp_path / "f.db", clock)
    app = DutyApp(env, clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        assert await wait_for(pilot, lambda: "密钥环" in text_of(app, "#login-keyring"))
        assert "请输入密码" in text_of(app, "#login-keyring")
        assert not app.screen.query_one("#login-remember").display
        await log_in(pilot, "wangli", PW)
        assert await wait_for(pilot, lambda: screen_name(app) == "BoardScreen")


async def test_a_hanging_keyring_is_abandoned_within_3s_and_the_app_stays_usable(tmp_path, clock):
    hang = HangingKeyring()
    keyring.set_keyring(hang)
    try:
        env = seeded(tmp_path / "h.db", clock)
        app = DutyApp(env, clock=clock)
        async with app.run_test(size=(80, 24)) as pilot:
            start = time.monotonic()
            await pilot.pause(0.2)
            # While the keyring hangs, the form answers keys at once.
            await pilot.press(*"wangli")
            assert app.screen.query_one("#login-username", Input).value == "wangli"
            assert await wait_for(pilot, lambda: "3 秒内无响应" in text_of(app, "#login-keyring"), timeout=4)
            # The keyring is first asked KEYRING_DELAY_S after the form is up (after its first paint).
            assert time.monotonic() - start < 3.0 + KEYRING_DELAY_S + 0.6
            await pilot.press("enter", *PW, "enter")
            assert await wait_for(pilot, lambda: screen_name(app) == "BoardScreen")
    finally:
        hang.release.set()


async def test_idle_lock_hides_names_and_unlocks_with_the_password(tmp_path, clock):
    env = seeded(tmp_path / "i.db", clock)
    app = DutyApp(env, clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await log_in(pilot, "wangli", PW)
        assert await wait_for(pilot, lambda: screen_name(app) == "BoardScreen" and TITLE in board_text(app))
        clock.advance(minutes=9)
        assert not app.check_idle_lock()      # nine minutes: not yet
        await pilot.press("down")            # a key press restarts the count
        clock.advance(minutes=9)
        assert not app.check_idle_lock()
        clock.advance(minutes=1, seconds=1)
        assert app.check_idle_lock() and app.locked
        await pilot.pause()
        shown = board_text(app)
        assert TITLE not in shown and "-001" in shown     # codes stay, titles go
        assert "王丽" not in str(app.screen.query_one("#board-school").render())

        await pilot.press("n")                # any action asks for the password instead
        assert await wait_for(pilot, lambda: screen_name(app) == "UnlockScreen")
        await pilot.press(*"not-it-123", "enter")
        assert await wait_for(pilot, lambda: "不正确" in text_of(app, "#unlock-error"))
        assert app.locked
        await pilot.press("escape")          # stays locked
        assert await wait_for(pilot, lambda: screen_name(app) == "BoardScreen")
        assert app.locked and TITLE not in board_text(app)
        app.post_message(events.Paste("pasted text"))   # a paste is input too: it opens the dialog
        assert await wait_for(pilot, lambda: screen_name(app) == "UnlockScreen")
        assert app.screen.query_one("#unlock-password", Input).value == ""
        await pilot.press("ctrl+q")          # quitting is an action too
        await pilot.pause()
        assert app.is_running and screen_name(app) == "UnlockScreen"
        await pilot.press(*PW, "enter")
        assert await wait_for(pilot, lambda: not app.locked)
        assert await wait_for(pilot, lambda: screen_name(app) == "BoardScreen" and TITLE in board_text(app))
    lock, unlock = actions("session.lock")[-1], actions("session.unlock")[-1]
    assert lock.actor == unlock.actor == "wangli" and lock.origin == "local"
    assert actions("login.fail")[-1].changes["purpose"] == "unlock"


async def test_ctrl_l_locks_at_once_and_switch_user_logs_out(tmp_path, clock):
    env = seeded(tmp_path / "s.db", clock, ("zhang", "officer"))
    app = DutyApp(env, clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await log_in(pilot, "wangli", PW)
        assert await wait_for(pilot, lambda: screen_name(app) == "BoardScreen")
        await pilot.press("ctrl+l")
        assert app.locked
        await pilot.press("space")
        assert await wait_for(pilot, lambda: screen_name(app) == "UnlockScreen")
        await pilot.press("ctrl+o")
        assert await wait_for(pilot, lambda: screen_name(app) == "LoginScreen")
        assert not app.locked and not app.logged_in
        await log_in(pilot, "zhang", PW)
        assert await wait_for(pilot, lambda: screen_name(app) == "BoardScreen")
        assert app.actor.username == "zhang"
    assert actions("session.lock")[-1].changes["why"] == "manual"


async def test_a_viewer_cannot_write_through_the_tui(tmp_path, clock, monkeypatch):
    env = seeded(tmp_path / "v.db", clock, ("guest", "viewer"))
    app = DutyApp(env, clock=clock)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.pause()
        await log_in(pilot, "guest", PW)
        assert await wait_for(pilot, lambda: screen_name(app) == "BoardScreen")
        assert app.actor.role == "viewer"
        # A real form from another feature: completing a prevention check. The key is dimmed for a
        # viewer and, pressed, names the role at once (tui.role_keys) instead of opening the form.
        await pilot.press("x")
        assert await wait_for(pilot, lambda: screen_name(app) == "ChecksScreen")
        await pilot.press("enter")
        assert await wait_for(pilot, lambda: any("权限不足" in str(n.message) and "值班员" in str(n.message)
                                                 for n in app._notifications))
        assert screen_name(app) == "ChecksScreen"
        # The form itself still refuses a viewer's save in the domain (opened another way).
        from models.tables import Check
        from screens.checks import CompleteCheckScreen
        app.push_screen(CompleteCheckScreen(Check.select().first().id))
        assert await wait_for(pilot, lambda: screen_name(app) == "CompleteCheckScreen")
        await pilot.press("ctrl+s")
        assert await wait_for(pilot, lambda: "值班员" in text_of(app, "#complete-error"))
        assert CheckRun.select().count() == 0
        # A screen that declares the role it needs is not even opened.
        from screens.password import PasswordScreen
        monkeypatch.setattr(PasswordScreen, "REQUIRED_ROLE", "officer", raising=False)
        before = len(app.screen_stack)
        assert app.open_screen("password") is False and len(app.screen_stack) == before


async def test_make_app_still_starts_logged_in_at_the_board(tmp_path, clock):
    from tests.conftest import make_app
    app = make_app(tmp_path / "m.db", clock, role="officer", username="li")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert screen_name(app) == "BoardScreen" and app.actor.username == "li"


async def test_an_actor_without_an_account_is_never_locked_out_of_the_app(tmp_path, clock):
    from tests.conftest import make_app
    app = make_app(tmp_path / "demo.db", clock, idle_lock=True)   # like `xueji-duty demo`
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        clock.advance(minutes=30)
        assert not app.check_idle_lock() and not app.locked
        await pilot.press("ctrl+l")
        assert not app.locked and screen_name(app) == "BoardScreen"


async def test_change_my_password_from_the_palette_needs_the_current_one(tmp_path, clock):
    env = seeded(tmp_path / "p.db", clock)
    app = DutyApp(env, clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await log_in(pilot, "wangli", PW)
        assert await wait_for(pilot, lambda: screen_name(app) == "BoardScreen")
        app.action_change_password()
        assert await wait_for(pilot, lambda: screen_name(app) == "PasswordScreen")
        await pilot.press(*"not-current-1", "enter", *"Newer2026pw", "enter", *"Newer2026pw", "enter")
        assert await wait_for(pilot, lambda: "不正确" in text_of(app, "#pw-error"))
        app.screen.query_one("#pw-current", Input).value = PW
        await pilot.press("ctrl+s")
        assert await wait_for(pilot, lambda: screen_name(app) == "BoardScreen")
    assert actions("user.passwd")[-1].changes["by"] == "self"
    assert accounts.authenticate(make_ctx(env.store(), clock, role="viewer", username="-"), "wangli",
                                 "Newer2026pw").username == "wangli"


def _burst(app, text: str) -> None:
    """Keys that arrive in one read, as typed during a lag of an SSH link: all queued at once."""
    for ch in text:
        key = "enter" if ch == "\r" else ch
        app.post_message(events.Key(key, None if key == "enter" else ch))


async def test_keys_typed_ahead_over_a_slow_link_land_in_the_right_fields(tmp_path, clock):
    """User name, Enter, password, Enter in one burst: the password never shows in the user-name field."""
    env = seeded(tmp_path / "b.db", clock)
    app = DutyApp(env, clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        _burst(app, "wangli\r" + PW[:4])
        await pilot.pause()
        assert app.screen.query_one("#login-username", Input).value == "wangli"
        assert app.screen.query_one("#login-password", Input).value == PW[:4]
        _burst(app, PW[4:] + "\r")
        assert await wait_for(pilot, lambda: screen_name(app) == "BoardScreen")
        assert app.actor.username == "wangli"


async def test_setup_fields_typed_ahead_stay_in_their_fields(tmp_path, clock):
    app = DutyApp(env_for(tmp_path / "s.db"), clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        school = app.screen.query_one("#setup-school", Input)
        school.value = ""
        app.screen.set_focus(school)
        await pilot.pause()
        _burst(app, "海峰中学\r\r\rwangli\r王丽\r" + PW + "\r" + PW[:3])
        await pilot.pause()
        values = {i: app.screen.query_one(f"#{i}", Input).value
                  for i in ("setup-school", "setup-username", "setup-name", "setup-password", "setup-password2")}
        assert values == {"setup-school": "海峰中学", "setup-username": "wangli", "setup-name": "王丽",
                          "setup-password": PW, "setup-password2": PW[:3]}
