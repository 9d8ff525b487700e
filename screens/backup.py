"""Backups: back up now (plain or encrypted), the archives with their verification state, verify
one, restore one with the CLI's safety, and the last automatic backup.

Opened from the board's ``g`` menu; officers back up and verify, only an admin restores
(``models.backup`` checks the roles again). A restore does what ``xueji-duty restore`` does:
the archive is verified first, the admin types 恢复 to confirm, the current database is kept as
a pre-restore copy, and it is refused while any other session has the database open. This
session lets go of its own connections for the moment of the restore and opens the restored
database afterwards.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from models.errors import DomainError, ValidationError
from models.i18n import t
from models.roles import require
from models.timeparse import fmt_local
from screens.accounts import PasswordForm
from screens._follow import FollowsOtherSessions
from tui.palette import BindingCommands
from tui.widgets.columns import fit_columns
from tui.widgets.form_modal import FormField
from tui.widgets.notice_room import NoticeRoom

TCSS = Path(__file__).resolve().parent.parent / "assets" / "tcss" / "backup.tcss"
CONFIRM_WORDS = ("恢复", "restore")


def archives(folder: Path) -> list[Path]:
    """The archives in the backup folder, newest first (by the time in their names)."""
    from models.backup import _NAME_RE
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if p.is_file() and _NAME_RE.match(p.name)]

    def key(p: Path):
        m = _NAME_RE.match(p.name)
        return m.group("stamp"), int((m.group("n") or "-0")[1:])

    return sorted(found, key=key, reverse=True)


class BackupScreen(FollowsOtherSessions, Screen):
    CSS_PATH = TCSS
    COMMANDS = {BindingCommands}
    REQUIRED_ROLE = "officer"
    GUIDE_SECTION = "backup"
    BINDINGS = [
        Binding("b", "backup", t("backup_screen.key.backup"), id="backup.now"),
        Binding("v", "verify", t("backup_screen.key.verify"), id="backup.verify"),
        Binding("r", "restore", t("backup_screen.key.restore"), id="backup.restore"),
        Binding("escape", "back", t("stats.key.back"), id="backup.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.checked: dict[str, tuple[bool, str]] = {}     # path → (verified, message), this session
        self._paths: list[Path] = []

    def compose(self) -> ComposeResult:
        yield Static(t("backup_screen.title"), id="backup-title")
        yield Static("", id="backup-last")
        yield DataTable(id="backup-table", cursor_type="row")
        yield Static("", id="backup-status")
        yield NoticeRoom()     # notices show here, never over the table
        yield Footer(compact=True, show_command_palette=False)  # every key fits 80 columns

    def on_mount(self) -> None:
        table = self.query_one("#backup-table", DataTable)
        self._fit_columns()
        self.reload()
        self.follow_other_sessions("backup-poll")
        self.watch(self.app, "locked", lambda locked: self.reload(), init=False)
        table.focus()

    def _fit_columns(self) -> None:
        """Every heading fits at 80 columns; the file name takes the rest of the width."""
        from rich.cells import cell_len
        kind = max(cell_len(t(f"backup_screen.kind.{a}") + "·" + t(f"backup_screen.kind.{b}"))
                   for a in ("auto", "manual") for b in ("enc", "plain"))
        state = max(cell_len(t(f"backup_screen.state.{s}")) for s in ("ok", "bad", "unchecked"))
        spec = [(key, t(f"backup_screen.col.{key}"), width)
                for key, width in (("at", 16), ("kind", kind), ("size", 7), ("state", state), ("name", 20))]
        fit_columns(self.query_one("#backup-table", DataTable), spec, "name", self.size.width or self.app.size.width)

    def on_resize(self) -> None:
        self._fit_columns()

    def _folder(self) -> Path:
        from models.backup import backup_dir
        return backup_dir(self.app.store, self.app.settings)

    def reload(self) -> None:
        from models.backup import ENC_SUFFIX, _NAME_RE, last_backup
        table = self.query_one("#backup-table", DataTable)
        if self.app.locked:
            table.clear()
            return
        ctx = self.app.ctx
        try:
            with ctx.store.read():
                auto = last_backup(ok=True, automatic=True)
                failed = last_backup(ok=False)
        except DomainError as exc:
            self._status(exc.message, error=True)
            return
        last = t("backup_screen.last_auto", at=fmt_local(auto.at, ctx.zone)) if auto else t("backup_screen.no_auto")
        if failed and (auto is None or failed.at > auto.at):
            last += "　" + t("backup_screen.last_failed", at=fmt_local(failed.at, ctx.zone), why=failed.message)
        self.query_one("#backup-last", Static).update(Text(last + "　" + t("backup_screen.folder",
                                                                           path=str(self._folder()))))
        keep = self._selected()
        table.clear()
        self._paths = archives(self._folder())
        for p in self._paths:
            m = _NAME_RE.match(p.name)
            stamp = m.group("stamp")
            at = f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]} {stamp[9:11]}:{stamp[11:13]}"
            kind = t("backup_screen.kind.auto" if m.group("auto") else "backup_screen.kind.manual")
            kind += "·" + t("backup_screen.kind.enc" if p.name.endswith(ENC_SUFFIX) else "backup_screen.kind.plain")
            ok = self.checked.get(str(p))
            state = (t("backup_screen.state.ok") if ok[0] else t("backup_screen.state.bad")) if ok \
                else t("backup_screen.state.unchecked")
            size = p.stat().st_size
            table.add_row(Text(at), Text(kind), Text(f"{size / 1024:.0f} KB"),
                          Text(state, style="bold reverse" if ok and not ok[0] else ""), Text(p.name), key=str(p))
        if keep is not None and keep in self._paths:
            table.move_cursor(row=self._paths.index(keep))
        if not self._paths:
            self._status(t("backup_screen.none"))

    def _selected(self) -> Path | None:
        table = self.query_one("#backup-table", DataTable)
        if not table.row_count:
            return None
        return Path(table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value)

    def _status(self, message: str, error: bool = False) -> None:
        self.query_one("#backup-status", Static).update(Text(message, style="bold reverse" if error else "bold"))

    def _done(self, result) -> None:
        if result:
            self._status(result)
        self.reload()

    # ------------------------------------------------------------------ back up, verify

    def action_backup(self) -> None:
        from models.backup import create_backup

        def save(v: dict) -> str:
            phrase = v["passphrase"] or None
            if phrase != (v["passphrase2"] or None):
                raise ValidationError({"passphrase2": ("backup.error.passphrase_mismatch", {})})
            result = create_backup(self.app.ctx, passphrase=phrase)
            self.checked[str(result.path)] = (True, "")
            key = "backup_screen.done_enc" if result.encrypted else "backup_screen.done_plain"
            return t(key, name=result.path.name, files=result.files)

        fields = [FormField("passphrase", t("backup_screen.field.passphrase")),
                  FormField("passphrase2", t("backup_screen.field.passphrase2"))]
        self.app.push_screen(PasswordForm(t("backup_screen.backup_title"), fields, save,
                                          intro=t("backup_screen.backup_intro"),
                                          secret=("passphrase", "passphrase2")), self._done)

    def _with_passphrase(self, path: Path, title: str, then) -> None:
        """Ask for the passphrase of an encrypted archive (none for a plain one), then ``then(phrase)``."""
        from models import archive as arch
        if not arch.is_encrypted(path):
            then(None)
            return

        def answered(result) -> None:
            if result is not None:
                then(result["passphrase"])

        self.app.push_screen(PasswordForm(title, [FormField("passphrase", t("backup_screen.field.passphrase"))],
                                          lambda v: {"passphrase": v["passphrase"] or ""},
                                          secret=("passphrase",)), answered)

    def action_verify(self) -> None:
        path = self._selected()
        if path is None:
            return
        self._with_passphrase(path, t("backup_screen.verify_title", name=path.name), lambda p: self._verify(path, p))

    def _verify(self, path: Path, passphrase: str | None) -> dict | None:
        from models.backup import key_lookup, verify_archive
        try:
            manifest = verify_archive(path, passphrase, key_for=key_lookup(self.app.store.path))
        except DomainError as exc:
            self.checked[str(path)] = (False, exc.message)
            self._status(exc.message, error=True)
            self.reload()
            return None
        self.checked[str(path)] = (True, "")
        self._status(t("backup_screen.verified", name=path.name, at=manifest.get("created_at", ""),
                       files=len(manifest.get("files", []))))
        self.reload()
        return manifest

    # ------------------------------------------------------------------ restore

    def action_restore(self) -> None:
        path = self._selected()
        if path is None:
            return
        try:
            require(self.app.actor, "admin")
        except DomainError as exc:
            self._status(exc.message, error=True)
            return
        self._with_passphrase(path, t("backup_screen.restore_title", name=path.name),
                              lambda p: self._confirm_restore(path, p))

    def _confirm_restore(self, path: Path, passphrase: str | None) -> None:
        manifest = self._verify(path, passphrase)      # everything a restore checks, first
        if manifest is None:
            return

        def save(v: dict):
            if v["confirm"].strip().lower() not in CONFIRM_WORDS:
                raise ValidationError({"confirm": ("backup_screen.error.confirm", {})})
            return self._restore(path, passphrase)

        intro = t("backup_screen.restore_intro", name=path.name, at=manifest.get("created_at", ""),
                  db=str(self.app.store.path))
        self.app.push_screen(PasswordForm(t("backup_screen.restore_title", name=path.name),
                                          [FormField("confirm", t("backup_screen.field.confirm"))], save,
                                          intro=intro), self._done)

    def _release(self) -> None:
        """This session's own connections, closed so that the restore's exclusive lock can be had:
        the screens' data_version connections, and the store's connection in this thread and in
        each worker thread (SQLite connections are per thread: each closes its own). Whatever
        stays open makes the restore refuse, as it refuses for another session."""
        import asyncio
        import concurrent.futures
        import threading

        from tui import county_sender
        if not county_sender.pause(self.app):     # the county sender's own connection (issue 19)
            # Still in a round (a slow county server): its connection stays open, and the lock
            # would be refused as if another session held the file. Say what is true; it ends
            # on its own (it keeps its stop signal) and ``resume`` starts the next one.
            county_sender.resume(self.app)
            raise DomainError("county.trust.sender_busy")
        for screen in self.app.screen_stack:
            conn = getattr(screen, "_poll", None)
            if isinstance(conn, sqlite3.Connection):
                conn.close()
                screen._poll = None
        db = self.app.store.db
        executor = getattr(asyncio.get_running_loop(), "_default_executor", None)
        threads = list(getattr(executor, "_threads", ()))
        if threads:
            # One task per pool thread: each waits for the others, so no thread takes two.
            barrier = threading.Barrier(len(threads), timeout=2.0)

            def close_here() -> None:
                try:
                    barrier.wait()
                except threading.BrokenBarrierError:
                    return
                db.close()

            concurrent.futures.wait([executor.submit(close_here) for _ in threads], timeout=3.0)
        self.app.store.close()

    def _reopen(self) -> None:
        env = self.app.env
        env._store = None
        self.app.store = env.store()
        self.app.settings = env.settings
        from tui import county_sender
        county_sender.resume(self.app)    # on the restored database, if it is enrolled

    def _restore(self, path: Path, passphrase: str | None) -> str:
        from models import audit
        from models.backup import restore_backup
        from models.context import Context
        from models.store import open_store
        actor = self.app.actor
        db_path = self.app.store.path
        clock = self.app.clock

        def after(restored: Path, manifest: dict) -> None:
            store = open_store(restored)
            try:
                ctx = Context(store=store, actor=actor, clock=clock, settings=self.app.settings)
                with store.write():
                    audit.record(ctx, "backup.restore", "database", "",
                                 {"archive": str(path), "created_at": manifest.get("created_at")})
                    from models.county import link
                    link.after_restore(store)     # the county shows the restored state
            finally:
                store.close()

        self._release()          # refuses (nothing closed, nothing changed) if our sender holds on
        try:
            result = restore_backup(db_path, path, passphrase=passphrase, now=clock.now(), after=after)
        finally:
            self._reopen()
        kept = t("backup_screen.kept", path=str(result.pre_restore)) if result.pre_restore else ""
        return t("backup_screen.restored", name=path.name) + kept

    def action_back(self) -> None:
        self.app.pop_screen()


SCREEN = BackupScreen
