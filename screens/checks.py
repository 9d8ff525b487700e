"""Prevention checks: what is due or overdue first; complete one with ticks and findings.

Opened from the board with ``x``. The list follows the other session's
writes (``PRAGMA data_version``, checked each second); completing a check
opens a form with the checklist, the findings, and optionally an incident or
a one-off follow-up check raised from a finding.
"""
from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Label, Select, Static, TextArea

from models.cadence import local_day
from models.checks import (CADENCES, FollowUp, add_check, cadence_text, complete_check, discard_form_draft,
                           edit_check, get_check, list_checks, load_form_draft, responsible_text, save_form_draft,
                           seed_defaults, view)
from screens._follow import FollowsOtherSessions
from models.errors import ConflictError, DomainError
from models.i18n import t
from models.incidents import IncidentInput
from models.taxonomy import load_taxonomy
from models.timeparse import fmt_local, parse_time
from tui.literal import choices
from tui.palette import BindingCommands
from tui.role_keys import RoleKeys
from tui.widgets.ticks import TickBox as Checkbox, TickList as SelectionList
from tui.widgets.notice_room import NoticeRoom

TCSS = Path(__file__).resolve().parent.parent / "assets" / "tcss" / "checks.tcss"
STATE_STYLE = {"overdue": "bold reverse red", "due_today": "bold yellow", "upcoming": "", "inactive": "dim"}

def state_text(v) -> str:
    if v.state == "overdue":
        return t("prevention.check.state.overdue", days=v.days)
    if v.state == "upcoming":
        return t("prevention.check.state.upcoming", days=v.days)
    return t(f"prevention.check.state.{v.state}")


class ChecksScreen(RoleKeys, FollowsOtherSessions, Screen):
    CSS_PATH = TCSS
    COMMANDS = {BindingCommands}
    # The role each key's action needs (the services refuse it without); ? marks them (screens/help.py).
    ACTION_ROLES = {"complete": "officer", "edit": "leader", "new": "leader"}
    BINDINGS = [
        Binding("enter", "complete", t("prevention.key.complete"), id="checks.complete", priority=True),
        Binding("e", "edit", t("prevention.key.edit"), id="checks.edit"),
        Binding("n", "new", t("prevention.key.new_check"), id="checks.new"),
        Binding("a", "toggle_all", t("prevention.key.all"), id="checks.all"),
        Binding("escape", "back", t("prevention.key.back"), id="checks.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.show_inactive = False
        self._version: int | None = None
        self._views: dict[str, object] = {}

    def compose(self) -> ComposeResult:
        yield Static(t("prevention.checks.title"), id="checks-title")
        yield Static("", id="checks-summary")
        yield DataTable(id="checks-table", cursor_type="row", zebra_stripes=False)
        yield Static("", id="checks-detail")
        yield NoticeRoom()     # notices show here, never over the table
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key, width in (("due", 5), ("state", 11), ("title", 30), ("responsible", 10), ("cadence", 9)):
            table.add_column(t(f"prevention.col.{key}"), key=key, width=width)
        try:
            seed_defaults(self.app.ctx)
        except DomainError as exc:
            self.notify(exc.message, severity="warning")
        self.reload()
        self.follow_other_sessions("checks-poll")
        self.watch(self.app, "locked", self._locked_changed, init=True)
        table.focus()

    def _locked_changed(self, locked: bool) -> None:
        """While the session is idle-locked, nothing of the school's duties is on screen."""
        self.query_one(DataTable).display = not locked
        self.query_one("#checks-detail").display = not locked
        self.query_one("#checks-summary", Static).update(t("prevention.locked") if locked else "")
        if not locked:
            self.reload()

    def reload(self) -> None:
        app = self.app
        if app.locked:
            return
        ctx = app.ctx
        now = app.clock.now()
        try:
            with ctx.store.read():
                views = list_checks(ctx, now, include_inactive=self.show_inactive)
        except DomainError as exc:
            self.notify(exc.message, severity="error")
            return
        table = self.query_one(DataTable)
        keep = None
        if table.row_count:
            keep = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        table.clear()
        self._views = {}
        for v in views:
            style = STATE_STYLE.get(v.state, "")
            due = local_day(v.next_due_at, ctx.zone).strftime("%m-%d") if v.next_due_at else "—"
            who = responsible_text(v.responsible)
            table.add_row(Text(due), Text(state_text(v), style=style), Text(v.title), Text(who),
                          Text(cadence_text(v.cadence, v.every_days)), key=str(v.id))
            self._views[str(v.id)] = v
        if keep in self._views:
            table.move_cursor(row=table.get_row_index(keep))
        overdue = sum(1 for v in views if v.state == "overdue")
        today = sum(1 for v in views if v.state == "due_today")
        self.query_one("#checks-summary", Static).update(
            Text(t("prevention.checks.summary", overdue=overdue, today=today, total=len(views)),
                 style="bold red" if overdue else ""))
        self._show_detail()

    def _selected(self):
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        return self._views.get(key)

    def _show_detail(self) -> None:
        v = self._selected()
        detail = self.query_one("#checks-detail", Static)
        if v is None:
            detail.update(t("prevention.checks.none"))
            return
        last = fmt_local(v.last_done_at, self.app.ctx.zone) if v.last_done_at else t("prevention.checks.never")
        lines = Text(t("prevention.checks.last_done", at=last) + "\n", style="dim")
        for i, item in enumerate(v.items, 1):
            lines.append(f"{i}. {item}\n")
        detail.update(lines)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def action_complete(self) -> None:
        v = self._selected()
        if v is None:
            return
        if self.app.locked:
            return
        self.app.push_screen(CompleteCheckScreen(v.id), self._completed)

    def _completed(self, result) -> None:
        self.reload()

    def action_toggle_all(self) -> None:
        self.show_inactive = not self.show_inactive
        self.reload()

    def action_edit(self) -> None:
        v = self._selected()
        if v is not None and not self.app.locked:
            self.app.push_screen(EditCheckScreen(v.id), self._completed)

    def action_new(self) -> None:
        if not self.app.locked:
            self.app.push_screen(EditCheckScreen(None), self._completed)

    def action_back(self) -> None:
        self.app.pop_screen()


class CompleteCheckScreen(Screen):
    """The completion form: ticks, findings, and what a finding should start."""

    CSS_PATH = TCSS
    COMMANDS = {BindingCommands}
    BINDINGS = [
        Binding("ctrl+s", "save", t("prevention.key.save"), id="complete.save", priority=True),
        Binding("escape", "cancel", t("prevention.key.cancel"), id="complete.cancel"),
    ]

    def __init__(self, check_id: int) -> None:
        super().__init__()
        self.check_id = check_id
        self._loaded = False

    def compose(self) -> ComposeResult:
        ctx = self.app.ctx
        check = get_check(self.check_id)
        self.check_version = check.version
        v = view(check, ctx.now(), ctx.zone)
        self.items = v.items
        due = local_day(v.next_due_at, ctx.zone).isoformat() if v.next_due_at else "—"
        yield Static(Text(f"{v.title}  ·  {t('prevention.col.due')} {due}  ·  {state_text(v)}"), id="complete-title")
        with VerticalScroll(id="complete-body"):
            yield Label(t("prevention.complete.items"))
            # Every item starts unticked: ctrl+s with nothing done must not record a passed check.
            yield SelectionList[int](*[(Text(item), i, False) for i, item in enumerate(self.items)],
                                     id="complete-items")
            yield Label(t("field.check_findings"))
            yield TextArea(id="complete-findings", soft_wrap=True)
            with Horizontal(classes="complete-row"):
                yield Checkbox(t("prevention.complete.open_incident"), id="complete-incident")
                tax = load_taxonomy()
                yield Select(choices((c.name, c.id) for c in tax.categories), id="complete-category",
                             value="security_hazard", allow_blank=False)
            yield Label(t("prevention.complete.follow_up"))
            with Horizontal(classes="complete-row"):
                yield Input(placeholder=t("prevention.complete.follow_up_title"), id="complete-fu-title")
                yield Input(value="+7d", id="complete-fu-due")
        yield Static("", id="complete-error")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        try:
            saved = load_form_draft(self.app.ctx, self.check_id)
        except DomainError:
            saved = None
        if saved:
            self._restore(saved)
            self.notify(t("prevention.complete.draft_restored"))
        self._loaded = True
        self.set_interval(3.0, self._save_draft, name="complete-draft")
        self.query_one("#complete-items").focus()

    def _form(self) -> dict:
        sel = set(self.query_one("#complete-items", SelectionList).selected)
        return {"ticked": sorted(i for i in sel if 0 <= i < len(self.items)),
                "unticked": [i for i in range(len(self.items)) if i not in sel],
                "findings": self.query_one("#complete-findings", TextArea).text,
                "incident": self.query_one("#complete-incident", Checkbox).value,
                "category": self.query_one("#complete-category", Select).value,
                "fu_title": self.query_one("#complete-fu-title", Input).value,
                "fu_due": self.query_one("#complete-fu-due", Input).value}

    def _restore(self, data: dict) -> None:
        items = self.query_one("#complete-items", SelectionList)
        if "ticked" in data:
            ticked = set(data["ticked"])
        else:                     # a draft written when the list started ticked
            ticked = set(range(len(self.items))) - set(data.get("unticked", []))
        for i in sorted(ticked):
            if 0 <= i < len(self.items):
                items.select(i)
        self.query_one("#complete-findings", TextArea).text = data.get("findings", "")
        self.query_one("#complete-incident", Checkbox).value = bool(data.get("incident"))
        if data.get("category"):
            try:
                self.query_one("#complete-category", Select).value = data["category"]
            except Exception:
                pass
        self.query_one("#complete-fu-title", Input).value = data.get("fu_title", "")
        self.query_one("#complete-fu-due", Input).value = data.get("fu_due", "+7d")

    def flush_draft(self) -> None:
        """The terminal is going (SIGHUP): write the draft now."""
        self._save_draft()

    def _save_draft(self) -> None:
        if not self._loaded:
            return
        form = self._form()
        if not (form["ticked"] or form["findings"].strip() or form["fu_title"].strip() or form["incident"]):
            return
        try:
            save_form_draft(self.app.ctx, self.check_id, form)
        except DomainError:
            pass  # the next tick tries again; nothing typed is lost from the screen

    def _discard_draft(self) -> None:
        try:
            discard_form_draft(self.app.ctx, self.check_id)
        except DomainError:
            pass

    def _error(self, message: str) -> None:
        self.query_one("#complete-error", Static).update(Text(message, style="bold red"))

    def action_save(self) -> None:
        app = self.app
        ctx = app.ctx
        form = self._form()
        now = ctx.now()
        ticked = set(form["ticked"])
        ticks = {item: i in ticked for i, item in enumerate(self.items)}
        findings = form["findings"].strip()
        incident = None
        if form["incident"]:
            first = findings.splitlines()[0] if findings else ""
            check = get_check(self.check_id)
            incident = IncidentInput(title=(f"{check.title}：{first}" if first else check.title)[:200],
                                     category=form["category"], occurred_at=now, discovered_at=now,
                                     reported_by=ctx.actor.label, description=findings)
        follow = None
        try:
            if form["fu_title"].strip():
                due_at = parse_time(form["fu_due"] or "+7d", now=now, zone=ctx.zone, field="check_follow_up")
                follow = FollowUp(title=form["fu_title"], due=local_day(due_at, ctx.zone))
            result = complete_check(ctx, self.check_id, findings=findings, ticks=ticks,
                                    expected_version=self.check_version, incident=incident, follow_up=follow)
        except ConflictError as exc:
            self._error(exc.message)
            return
        except DomainError as exc:
            self._error(exc.message)
            return
        self._discard_draft()
        nxt = local_day(result.check.next_due_at, ctx.zone).isoformat() if result.check.next_due_at else "—"
        app.notify(t("prevention.cli.check.recorded", title=view(result.check, now, ctx.zone).title, next=nxt))
        if result.incident is not None:
            app.notify(t("cli.incident.created", code=result.incident.code, title=result.incident.title),
                       severity="warning")
        self.dismiss(True)

    def action_cancel(self) -> None:
        self._discard_draft()
        self.dismiss(False)


class EditCheckScreen(Screen):
    """Edit a duty (the shipped ones too) or add one: the school's own schedule."""

    CSS_PATH = TCSS
    COMMANDS = {BindingCommands}
    BINDINGS = [
        Binding("ctrl+s", "save", t("prevention.key.save"), id="edit_check.save", priority=True),
        Binding("escape", "cancel", t("prevention.key.cancel"), id="edit_check.cancel"),
    ]

    def __init__(self, check_id: int | None) -> None:
        super().__init__()
        self.check_id = check_id

    def compose(self) -> ComposeResult:
        ctx = self.app.ctx
        check = get_check(self.check_id) if self.check_id is not None else None
        self.version = check.version if check else None
        v = view(check, ctx.now(), ctx.zone) if check else None
        heading = t("prevention.edit.title_edit" if check else "prevention.edit.title_new")
        yield Static(Text(heading + (f"：{v.title}" if v else "")), id="complete-title")
        with VerticalScroll(id="complete-body"):
            yield Label(t("field.title"))
            yield Input(value=v.title if v else "", id="ec-title")
            with Horizontal(classes="complete-row"):
                yield Select([(cadence_text(c, "N"), c) for c in CADENCES], id="ec-cadence",
                             value=v.cadence if v else "monthly", allow_blank=False)
                yield Input(value=str(v.every_days or "") if v else "", placeholder=t("prevention.ph.every_days"),
                            id="ec-every")
                yield Input(value=(local_day(v.next_due_at, ctx.zone).isoformat() if v and v.next_due_at else ""),
                            placeholder=t("field.next_due"), id="ec-due")
            with Horizontal(classes="complete-row"):
                yield Input(value=v.responsible if v else "", placeholder=t("field.check_responsible"),
                            id="ec-responsible")
                yield Checkbox(t("prevention.edit.active"), value=v.active if v else True, id="ec-active")
            yield Label(t("prevention.edit.items"))
            yield TextArea("\n".join(v.items) if v else "", id="ec-items", soft_wrap=True)
        yield Static("", id="complete-error")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#ec-title").focus()

    def action_save(self) -> None:
        ctx = self.app.ctx
        title = self.query_one("#ec-title", Input).value
        cadence = self.query_one("#ec-cadence", Select).value
        every = self.query_one("#ec-every", Input).value.strip() or None
        responsible = self.query_one("#ec-responsible", Input).value
        items = [line for line in self.query_one("#ec-items", TextArea).text.splitlines() if line.strip()]
        due_text = self.query_one("#ec-due", Input).value.strip()
        try:
            due = (local_day(parse_time(due_text, now=ctx.now(), zone=ctx.zone, field="next_due"), ctx.zone)
                   if due_text else None)
            if self.check_id is None:
                add_check(ctx, title, cadence, every_days=every, responsible=responsible, checklist=items,
                          first_due=due)
            else:
                current = get_check(self.check_id)
                shown = view(current, ctx.now(), ctx.zone).items
                changes = {"title": title, "cadence": cadence, "every_days": every, "responsible": responsible,
                           "active": self.query_one("#ec-active", Checkbox).value}
                if items != shown:   # untouched shipped items stay bilingual
                    changes["checklist"] = items
                if due is not None:
                    changes["next_due"] = due
                if title == view(current, ctx.now(), ctx.zone).title:
                    changes.pop("title")     # a shipped title shown translated stays as stored
                edit_check(ctx, self.check_id, self.version, changes)
        except DomainError as exc:
            self.query_one("#complete-error", Static).update(Text(exc.message, style="bold red"))
            return
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)


SCREEN = ChecksScreen
