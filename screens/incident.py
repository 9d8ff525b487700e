"""One incident: facts, every obligation with its countdown, report stages, timeline, evidence.

The countdowns tick every second from ``app.clock``; any commit (another
session's or this one's) is picked up within a second through the store's
change feed (``Store.feed``). Every action
goes through a service, so the role checks, versions and audit are the
domain's, and a refusal is shown as the domain's message.
"""
from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static, TabbedContent, TabPane

from models.county.receipts import receipts_for_incident, standing
from models.errors import DomainError, NotFound
from models.evidence import add_evidence, default_collector, evidence_for
from models.i18n import t
from models.incidents import (close_incident, get_incident, incident_obligations, mark_handled,
                              withdraw_incident)
from models.notes import add_note
from models.roles import require
from models.tables import Report
from models.taxonomy import load_taxonomy
from models.timeline import timeline
from models.timeparse import fmt_duration, fmt_local, fmt_when, parse_time
from tui.app import ASSETS
from tui.palette import BindingCommands
from tui.role_keys import RoleKeys
from tui.widgets.form_modal import FormField, FormModal
from tui.widgets.notice_room import NoticeRoom
from screens._presence import ShowsPresence
from screens._incident_text import change_lines, escalation, event_title, human_size, masked



TIMELINE_LIMIT = 200   # newest entries shown; the audit trail keeps all of them
STAGE_COLUMNS = ("stage", "due", "left", "state", "report")
STAGES_CHROME = 2      # the overview's scrollbar gutter (kept, so the widths do not jump)
LEFT_MIN = 7           # -10d23h: the countdown column does not change width as it ticks
FOLLOW_S = 0.25       # how often the change feed is asked (microseconds each); 1 s after any commit at most


class IncidentScreen(RoleKeys, ShowsPresence, Screen):
    COMMANDS = {BindingCommands}   # ctrl+p lists this screen's keys too
    CSS_PATH = [ASSETS / "tcss" / "incident.tcss"]
    BINDINGS = [
        Binding("escape", "back", t("incident.back"), id="incident.back"),
        Binding("e", "edit", t("incident.action.edit"), id="incident.edit"),
        Binding("g", "grade", t("incident.action.grade"), id="incident.grade"),
        Binding("n", "note", t("incident.action.note"), id="incident.note"),
        Binding("v", "evidence", t("incident.action.evidence"), id="incident.evidence"),
        Binding("h", "handled", t("incident.action.handled"), id="incident.handled"),
        # w and d stay in ? help and the palette; the footer keeps room for ? 帮助 at 80 columns.
        Binding("w", "withdraw", t("incident.action.withdraw"), id="incident.withdraw", show=False),
        Binding("c", "close_incident", t("incident.action.close"), id="incident.close"),
        Binding("p", "contacts", t("incident.action.contacts"), id="incident.contacts"),
        Binding("d", "drill", t("incident.action.drill"), id="incident.drill", show=False),
        Binding("question_mark", "app.help", t("board.key.help"), id="incident.help"),
        Binding("1", "tab('overview')", t("incident.tab.overview"), show=False),
        Binding("2", "tab('timeline')", t("incident.tab.timeline"), show=False),
        Binding("3", "tab('evidence')", t("incident.tab.evidence"), show=False),
    ]

    # What a read-only view (the history screen's) leaves out: every key that changes the record.
    WRITE_ACTIONS = ("edit", "grade", "note", "evidence", "handled", "withdraw", "close_incident")
    # The statuses in which each state change is possible (models/incidents.py refuses the others).
    STATE_ACTIONS = {"handled": ("open",), "close_incident": ("handled",), "withdraw": ("open", "handled")}
    # The role each key's action needs: without it the footer shows the key dimmed, ? marks it with
    # the role (screens/help.py) and, pressed, it is refused with a notice (tui/role_keys.py); the
    # services check the role again.
    ACTION_ROLES = {"edit": "officer", "note": "officer", "evidence": "officer", "handled": "officer",
                    "grade": "leader", "withdraw": "leader", "close_incident": "leader"}

    def __init__(self, incident_id: Any, read_only: bool = False) -> None:
        super().__init__()
        self.read_only = read_only
        if read_only:
            self.sub_title = t("history.read_only")
        self.incident_ref = incident_id
        self.inc = None
        self._rows: list[tuple[str, Any]] = []   # (row key, obligation or None)
        self._shown: dict[str, Any] = {}         # what each section last drew, to skip identical redraws
        self._cells: dict[str, dict[str, Any]] = {}   # the stage table's texts, full and short
        self._widths: dict[str, int] = {}        # the stage table's column widths (content cells)
        self._receipts: dict = {}                # the county's receipts (已签收) by (regime, stage, seq)

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="tabs", initial="overview"):
            with TabPane(t("incident.tab.overview"), id="overview"):
                with VerticalScroll(id="overview-scroll"):
                    yield Static("", id="facts")
                    yield DataTable(id="stages", cursor_type="row", zebra_stripes=True)
                    yield Static(Text(t("incident.stages_hint"), style="dim"), id="stages-hint")
            with TabPane(t("incident.tab.timeline"), id="timeline"):
                yield VerticalScroll(Static("", id="timeline-text"), id="timeline-scroll", can_focus=True)
            with TabPane(t("incident.tab.evidence"), id="evidence"):
                yield DataTable(id="evidence-table", cursor_type="row", zebra_stripes=True)
        yield NoticeRoom()     # notices show here, never over the stage table
        yield Footer(compact=True, show_command_palette=False)  # ? 帮助 last; w, d and the palette in ? help

    def on_mount(self) -> None:
        stages = self.query_one("#stages", DataTable)
        for key in STAGE_COLUMNS:
            stages.add_column(t(f"incident.col.{key}"), key=key)
        ev = self.query_one("#evidence-table", DataTable)
        for key in ("no", "file", "size", "sha", "at", "by", "note"):
            ev.add_column(t(f"incident.col.ev_{key}"), key=key)
        self.reload()
        self.set_interval(1.0, self.tick)
        self.set_interval(FOLLOW_S, self._follow, name="incident-follow")
        self.start_presence()
        self.watch(self.app, "locked", lambda _locked: self.reload())
        stages.focus()

    # ---- data ---------------------------------------------------------------------------------
    def reload(self) -> None:
        ctx = self.app.ctx
        try:
            with ctx.store.read():
                self.inc = get_incident(self.incident_ref)
                ctx.store.feed.follow(self)
                obls = incident_obligations(ctx, self.inc)
                reports = list(Report.select().where(Report.incident == self.inc))
                self._receipts = receipts_for_incident(self.inc)
                entries = timeline(self.inc, TIMELINE_LIMIT)
                evidence = evidence_for(self.inc)
        except NotFound as exc:
            self.query_one("#facts", Static).update(Text(exc.message))
            return
        except DomainError as exc:
            self.notify(exc.message, severity="error", markup=False)
            return
        self.title = t("incident.screen_title", code=self.inc.code)
        self.render_facts()
        self.render_stages(obls, reports)
        locked = bool(self.app.locked)
        if self._changed("timeline", (locked, [(e.kind, e.order, e.at, e.action, e.actor_name) for e in entries])):
            self.render_timeline(entries)
        if self._changed("evidence", (locked, [ev.id for ev in evidence])):
            self.render_evidence(evidence)
        if self._changed("keys", (bool(self.inc.is_drill), self.inc.status, getattr(self.app.actor, "role", None))):
            self.refresh_bindings()      # d 演练 only on a drill; h, c, w by status; a role's keys dimmed

    def _changed(self, section: str, signature: Any) -> bool:
        """Another session's autosave changes the database every few seconds; most sections did not."""
        if self._shown.get(section) == signature:
            return False
        self._shown[section] = signature
        return True

    def presence_target(self):
        return ("incident", str(self.inc.id), self.inc.id, self.inc.code) if self.inc is not None else None

    def replaced_scope(self):
        return ("incident", self.inc.id, self.inc.code) if self.inc is not None else None

    def _follow(self) -> None:
        """Any commit, this session's own included (a report just submitted, a call logged)."""
        if self.inc is not None and self.app.store.feed.changed(self):
            self.reload()

    def on_unmount(self) -> None:
        self.app.store.feed.forget(self)

    def tick(self) -> None:
        """Every second: the countdowns move; another session's write triggers a full reload."""
        if self.inc is None:
            return
        try:
            if self.app.store.feed.changed(self):
                self.reload()
                return
            obls = incident_obligations(self.app.ctx, self.inc)
        except DomainError:
            return
        table = self.query_one("#stages", DataTable)
        by_key = {self._key(o.regime, o.stage, o.seq): o for o in obls}
        for key, _ in self._rows:
            ob = by_key.get(key)
            row = self._cells.get(key)
            if ob is None or row is None:
                continue
            full, short, style, detail = self._state_forms(ob)
            left = self._left(ob, style)
            row.update(state=(full, short), state_style=style, detail=detail, left=left.plain)
            table.update_cell(key, "left", left)
            table.update_cell(key, "state", self._left_state(ob)[1])
        self._fit_columns()      # a longer word (超时 +1h00m) may need a wider column
        if self._rows and table.cursor_row is not None and table.cursor_row < len(self._rows):
            self._show_detail(self._rows[table.cursor_row][0])

    @staticmethod
    def _key(regime: str, stage: str, seq: int) -> str:
        return f"{regime}|{stage}|{seq}"

    # ---- rendering ----------------------------------------------------------------------------
    def render_facts(self) -> None:
        inc, ctx, locked = self.inc, self.app.ctx, self.app.locked
        tax = load_taxonomy()
        cat = tax.category(inc.category)
        sub = cat.sub(inc.subcategory) if inc.subcategory else None
        text = Text()
        text.append(inc.code, style="bold")
        text.append("  " + t("status." + inc.status), style="bold reverse" if inc.status == "open" else "bold")
        if inc.is_drill:
            text.append("  " + t("incident.drill"), style="bold magenta")
        grade = tax.grade(inc.grade) if inc.grade else None
        text.append("  " + t("field.grade") + " ")
        if grade:
            text.append(f"{grade.id} {grade.name}", style=f"bold {grade.colour}")
            text.append(" " + t("incident.grade_decided" if inc.grade_decided else "incident.grade_prelim"),
                        style="dim")
        else:
            text.append(t("incident.grade_undecided"), style="dim")
        text.append("\n")
        text.append(masked(inc.title, locked), style="bold")
        text.append("\n")
        text.append(cat.name + (f" › {sub.name}" if sub else ""))
        if not cat.in_plan:
            text.append(" " + t("incident.not_in_plan_flag"), style="yellow")
        if inc.personal_info_unsure:
            text.append("  " + t("incident.pi_unsure_flag"), style="bold yellow")
        elif inc.personal_info:
            text.append("  " + t("incident.pi_involved"), style="bold yellow")
        text.append("\n")
        pairs = [("occurred_at", fmt_local(inc.occurred_at, ctx.zone)),
                 ("discovered_at", fmt_local(inc.discovered_at, ctx.zone))]
        if inc.handling_closed_at:
            pairs.append(("handling_closed_at", fmt_local(inc.handling_closed_at, ctx.zone)))
        text.append("  ".join(f"{t('field.' + k)} {v}" for k, v in pairs))
        # Short facts share a line while they fit, so the stage table stays on an 80×24 screen.
        room = (self.size.width or self.app.size.width) - 4
        used = room
        for name, secret in (("location", False), ("asset", False), ("reported_by", True),
                             ("delay_reason", False), ("description", True)):
            value = getattr(inc, name)
            if value:
                label, shown = t("punct.label", label=t("field." + name)), masked(value, locked and secret)
                width = cell_len(label) + cell_len(shown)
                if name in ("location", "asset", "reported_by") and used + 2 + width <= room:
                    text.append("  ")
                    used += 2 + width
                else:
                    text.append("\n")
                    used = width if name in ("location", "asset", "reported_by") else room
                text.append(label, style="dim")
                text.append(shown)
        self.query_one("#facts", Static).update(text)

    def _state_forms(self, ob) -> tuple[str, str, str, str]:
        """(full, short, style, detail) of an obligation's state: the table cell shows the full text
        when its column is wide enough and the catalogue's short form otherwise (never a word cut
        in half); the line under the table shows ``detail``, the whole reason, for the highlighted row."""
        from tui.present import reason_text
        word, style = escalation(ob, self.app.settings)
        full = short = word
        detail = ""
        if ob.reason and ob.state in ("not_applicable", "waiting"):
            full, style = t(ob.reason), "dim"
            short = t(ob.reason + ".short", default=full)
            detail = t(ob.state_key) + " · " + full
        elif ob.state == "missed":
            # Missed stays missed, with why: the leader's reason when they closed over it.
            short = t(ob.state_key)
            full = detail = short + " · " + (ob.note or reason_text(ob))
            style = "bold red"
        elif ob.state == "conditional":
            short = t(ob.state_key)
            full = detail = short + " · " + reason_text(ob)
            style = "yellow"
        elif ob.reason == "reason.grade_lowered":
            full = detail = word + " · " + t("reason.grade_lowered")
            short = word + " · " + t("reason.grade_lowered.short")
        return full, short, style, detail

    def _left(self, ob, style: str) -> Text:
        left = ""
        if (ob.state == "conditional" or ob.is_open) and ob.seconds_left is not None:
            left = fmt_duration(ob.seconds_left) if ob.seconds_left >= 0 else "-" + fmt_duration(-ob.seconds_left)
        return Text(left, style=style)

    def _left_state(self, ob) -> tuple[Text, Text]:
        full, short, style, _detail = self._state_forms(ob)
        width = self._widths.get("state", 0)
        word = full if cell_len(full) <= width else short
        return self._left(ob, style), Text(word, style=style)

    # ---- the stage table's columns: sized to the width the screen has ------------------------
    def on_resize(self) -> None:
        if self.inc is not None:
            self.render_facts()
        if self._cells:
            self._fit_columns()

    def _fit_columns(self) -> None:
        """Every column as wide as its widest cell (or heading); the state and stage columns share
        what is left, the state's reason first. A cell too long for its column shows its short
        form. Columns grow with the terminal: at 100 columns and up the full texts fit."""
        table = self.query_one("#stages", DataTable)
        width = (self.size.width or self.app.size.width) - STAGES_CHROME
        need = {key: cell_len(t(f"incident.col.{key}")) for key in STAGE_COLUMNS}
        for row in self._cells.values():
            for key in ("due", "left"):
                need[key] = max(need[key], cell_len(row[key]))
        need["left"] = max(need["left"], LEFT_MIN)
        forms = ("stage", "state", "report")
        full = {key: max([need[key]] + [cell_len(r[key][0]) for r in self._cells.values()]) for key in forms}
        short = {key: max([need[key]] + [cell_len(r[key][1]) for r in self._cells.values()]) for key in forms}
        fixed = need["due"] + need["left"] + table.cell_padding * 2 * len(STAGE_COLUMNS)
        # The report cell in full (已报 10:05 ✓签收) when the stage and state still fit in their short
        # forms beside it; its short form (已报 10:05 ✓) otherwise: never a cell wider than its column.
        need["report"] = full["report"] if width - fixed - full["report"] >= short["stage"] + short["state"] \
            else short["report"]
        room = width - fixed - need["report"]
        if room >= full["stage"] + full["state"]:
            stage = full["stage"]
        else:
            stage = max(short["stage"], min(full["stage"], room - full["state"]))
        widths = {**need, "stage": stage, "state": max(room - stage, short["state"])}
        if widths == self._widths:
            return
        self._widths = widths
        for key, column in table.columns.items():
            column.width = widths[str(key.value)]
            column.auto_width = False
        self._fill_cells()

    def _fill_cells(self) -> None:
        table = self.query_one("#stages", DataTable)
        for key, row in self._cells.items():
            for col in ("stage", "state", "report"):
                full, short = row[col]
                text = full if cell_len(full) <= self._widths.get(col, 0) else short
                table.update_cell(key, col, Text(text, style=row[col + "_style"]))
        table.refresh(layout=True)
        table._require_update_dimensions = True

    def _stage_names(self, key: str) -> tuple[str, str]:
        ctx = self.app.ctx
        regime, stage_id, seq = key.split("|")
        stage = ctx.policy.stage(regime, stage_id)
        number = str(seq) if stage.repeatable and int(seq) > 1 else ""
        name = stage.name + number
        if regime != "school_plan":
            name = f"{name}·{regime.split('_')[0].upper()}"
        return name, t(f"stage_short.{regime}.{stage_id}", default=name) + number

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "stages":
            self._show_detail(str(event.row_key.value) if event.row_key is not None else None)

    def _show_detail(self, key: str | None) -> None:
        """The highlighted stage in full: its whole name and the complete reason."""
        row = self._cells.get(key) if key else None
        line = Text()
        if row is None:
            line.append(t("incident.stages_hint"), style="dim")
        else:
            line.append(row["stage"][0], style="bold")
            line.append("  " + (row["detail"] or row["state"][0]), style=row["state_style"])
            if row.get("receipt"):
                line.append("  " + row["receipt"], style="green")
        hint = self.query_one("#stages-hint", Static)
        hint.update(line)
        if row is not None and self.app.screen is self:
            # On a short screen the facts scroll up rather than hide the highlighted stage's reason.
            self.call_after_refresh(hint.scroll_visible, animate=False)

    def render_stages(self, obls, reports) -> None:
        ctx = self.app.ctx
        now = self.app.clock.now()
        table = self.query_one("#stages", DataTable)
        keep = table.cursor_row
        table.clear()
        latest: dict[str, Report] = {}
        for r in sorted(reports, key=lambda r: r.revision):
            latest[self._key(r.regime, r.stage, r.seq)] = r
        rows: list[tuple[str, Any]] = []
        seen = set()
        for ob in obls:
            key = self._key(ob.regime, ob.stage, ob.seq)
            rows.append((key, ob))
            seen.add(key)
        # Earlier reports of a repeatable stage, and optional stages (other matters), have no
        # obligation of their own but are stages the officer may open.
        for key in sorted(latest):
            if key not in seen:
                rows.append((key, None))
                seen.add(key)
        for stage in ctx.policy.stages():
            key = self._key(stage.regime, stage.id, 1)
            if stage.optional and key not in seen:
                rows.append((key, None))
                seen.add(key)
        self._rows = rows
        cells: dict[str, dict[str, Any]] = {}
        for key, ob in rows:
            report = latest.get(key)
            receipt, earlier = None, None
            if report is not None and report.status != "draft":
                receipt = self._receipts.get((report.regime, report.stage, int(report.seq or 1)))
                state = standing(receipt, report) if receipt is not None else None
                if state != "signed":
                    # A correction sent after the signature: not what was signed for (county2: says so).
                    receipt, earlier = None, (receipt if state == "earlier" else None)
            if report is None:
                rep, rep_style = ("-", "-"), "dim"
            elif report.status == "draft":
                rep, rep_style = (t("incident.report_draft"),) * 2, "yellow"
            else:
                # Every stage the county signed for says so in its row (✓签收), the final report's too;
                # the line under the table names who signed and when.
                sent = fmt_when(report.submitted_at, ctx.zone, now, with_zone=False)
                if receipt is not None:
                    rep = (t("incident.report_signed", at=sent), t("incident.report_signed.short", at=sent))
                elif earlier is not None:
                    rep = (t("county2.stage.signed_earlier", at=sent), t("county2.stage.signed_earlier.short", at=sent))
                else:
                    rep = (t("incident.report_sent", at=sent),) * 2
                rep_style = "bold green" if receipt is not None else ("yellow" if earlier is not None else "green")
            if ob is None:
                word = t("incident.no_deadline")
                state_forms, style, detail, left = (word, word), "dim", "", Text("")
                due = Text("-", style="dim")
            else:
                full, short, style, detail = self._state_forms(ob)
                state_forms, left = (full, short), self._left(ob, style)
                due = Text(fmt_when(ob.due_at, ctx.zone, now, with_zone=False) if ob.due_at else "-",
                           style="" if ob.due_at else "dim")
            cells[key] = {"stage": self._stage_names(key), "state": state_forms, "state_style": style,
                          "stage_style": "", "detail": detail,
                          "receipt": t("county.receipt.line", by=receipt.signed_by,
                                       at=fmt_when(receipt.signed_at, ctx.zone, now, with_zone=False))
                          if receipt is not None else (
                              t("county2.receipt.earlier", revision=earlier.revision or 1, by=earlier.signed_by,
                                at=fmt_when(earlier.signed_at, ctx.zone, now, with_zone=False))
                              if earlier is not None else ""),
                          "due": due.plain, "left": left.plain, "report": rep, "report_style": rep_style,
                          "_texts": (due, left)}
        self._cells = cells
        for key, row in cells.items():
            due, left = row["_texts"]
            table.add_row(Text(row["stage"][1]), due, left, Text(row["state"][1], style=row["state_style"]),
                          Text(row["report"][1], style=row["report_style"]), key=key)
        self._widths = {}
        self._fit_columns()
        if keep is not None and rows:
            table.move_cursor(row=min(keep, len(rows) - 1))
        self._show_detail(rows[table.cursor_row][0] if rows and table.cursor_row is not None else None)

    def render_timeline(self, entries) -> None:
        ctx, locked = self.app.ctx, self.app.locked
        text = Text()
        if not entries:
            text.append(t("incident.timeline_empty"), style="dim")
        elif len(entries) >= TIMELINE_LIMIT:
            text.append(t("incident.timeline_limited", n=TIMELINE_LIMIT) + "\n", style="dim")
        for e in entries:
            text.append(fmt_local(e.at, ctx.zone, with_zone=False), style="bold")
            text.append("  " + masked(e.actor_name or e.actor, locked), style="cyan")
            if e.kind == "note":
                text.append("  " + t("incident.tl.note") + "\n", style="bold")
                text.append("    " + masked(e.text, locked).replace("\n", "\n    ") + "\n")
            elif e.kind == "call":
                text.append("  " + t("incident.tl.call", outcome=t(f"incident.call.{e.action}", default=e.action))
                            + "  " + masked(str(e.changes.get("contact", "")), locked) + "\n", style="bold")
                if e.text:
                    text.append("    " + masked(e.text, locked).replace("\n", "\n    ") + "\n")
            else:
                text.append("  " + event_title(e, ctx) + "\n", style="bold")
                for line in change_lines(e, ctx, locked):
                    text.append("    " + line + "\n")
                if e.reason:
                    text.append("    " + t("punct.label", label=t("field.reason")), style="dim")
                    text.append(masked(e.reason, locked) + "\n")
        self.query_one("#timeline-text", Static).update(text)

    def render_evidence(self, evidence) -> None:
        ctx, locked = self.app.ctx, self.app.locked
        table = self.query_one("#evidence-table", DataTable)
        table.clear()
        for ev in evidence:
            name = ev.stored_path.rsplit("/", 1)[-1] if ev.copied and ev.stored_path else ev.original_path
            table.add_row(Text(str(ev.id)), Text(name + ("" if ev.copied else " ↗")), Text(human_size(ev.size)),
                          Text(ev.sha256[:12] + "…"), Text(fmt_local(ev.collected_at, ctx.zone, with_zone=False)),
                          Text(masked(ev.collected_by, locked)), Text(masked(ev.custody_note, locked)),
                          key=str(ev.id))
        if not evidence:
            table.add_row(Text(t("incident.no_evidence"), style="dim"), *[Text("")] * 6, key="none")

    # ---- actions ------------------------------------------------------------------------------
    def _guard(self, role: str) -> bool:
        try:
            require(self.app.actor, role)
        except DomainError as exc:
            self.notify(exc.message, severity="error", markup=False)
            return False
        return self.inc is not None

    def _done(self, message: str | None) -> None:
        if message:
            self.notify(message, markup=False)
        self.reload()

    def _state_allows(self, action: str) -> bool | None:
        """Whether the incident's status allows ``action``: True; None (dimmed) for 结案 before
        handling is finished (it comes next); False (hidden) for what is past (处置结束 once marked,
        撤销 and 结案 once closed or withdrawn). The services refuse the same."""
        allowed = self.STATE_ACTIONS.get(action)
        if allowed is None or self.inc is None or self.inc.status in allowed:
            return True
        return None if (action == "close_incident" and self.inc.status == "open") else False

    def check_action(self, action: str, parameters) -> bool | None:
        if self.read_only and action in self.WRITE_ACTIONS:
            return False
        if action == "drill":         # a drill's summary: only on a drill (pressed elsewhere, why_not says so)
            return self.inc is not None and bool(self.inc.is_drill)
        state = self._state_allows(action)
        if state is False:
            return False
        role = super().check_action(action, parameters)   # RoleKeys: a role the officer lacks → dimmed
        return None if state is None else role

    def why_not(self, action: str, parameters) -> str | None:
        if action == "drill" and self.inc is not None and not self.inc.is_drill:
            return t("incident.not_a_drill")
        role = super().why_not(action, parameters)
        if role or self._state_allows(action) is True:
            return role
        if action == "close_incident" and self.inc.status == "open":
            return t("error.close_needs_handled")
        return t("error.not_open", status=t("status." + self.inc.status))

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_tab(self, tab: str) -> None:
        self.query_one("#tabs", TabbedContent).active = tab

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id != "stages" or self.inc is None:
            return
        regime, stage, seq = str(event.row_key.value).split("|")
        self.app.open_screen("report", self.inc.id, regime, stage, int(seq))

    def action_contacts(self) -> None:
        if self.inc is not None:
            self.app.open_screen("contacts", self.inc.id)

    def action_drill(self) -> None:
        """A drill's summary (stage times against deadlines, calls, findings) lives on its own screen."""
        if self.inc is None:
            return
        if not self.inc.is_drill:
            self.notify(t("incident.not_a_drill"), severity="warning")
            return
        self.app.open_screen("drill", self.inc.id)

    def action_edit(self) -> None:
        if self._guard(self.ACTION_ROLES["edit"]):
            from screens.edit_incident import EditIncidentScreen
            self.app.push_screen(EditIncidentScreen(self.inc.id), lambda _r: self.reload())

    def action_grade(self) -> None:
        if self.inc is not None:
            from screens.grade import GradeScreen
            self.app.push_screen(GradeScreen(self.inc.id), lambda _r: self.reload())

    def action_note(self) -> None:
        if not self._guard(self.ACTION_ROLES["note"]):
            return
        ctx, inc = self.app.ctx, self.inc

        def save(values):
            add_note(ctx, inc.id, values["text"])
            return t("incident.note_added")
        self.app.push_screen(FormModal(t("incident.action.note"), [FormField("text", t("field.text"), "text")],
                                       save), self._done)

    def action_evidence(self) -> None:
        if not self._guard(self.ACTION_ROLES["evidence"]):
            return
        ctx, inc = self.app.ctx, self.inc

        def save(values):
            when = None
            if values["collected_at"].strip():
                when = parse_time(values["collected_at"], now=ctx.now(), zone=ctx.zone, field="collected_at")
            ev = add_evidence(ctx, inc.id, values["path"], copy=values["copy"], note=values["custody_note"],
                              collected_at=when, collected_by=values["collected_by"])
            return t("incident.evidence_added", id=ev.id, sha=ev.sha256[:16], who=ev.collected_by)
        fields = [FormField("path", t("field.path"), placeholder=t("incident.ph.path")),
                  FormField("copy", t("incident.copy_label"), "checkbox", True, t("incident.copy_yes")),
                  FormField("collected_at", t("field.collected_at"), value=fmt_local(ctx.now(), ctx.zone, with_zone=False)),
                  FormField("collected_by", t("field.collected_by"), value=default_collector(ctx)),
                  FormField("custody_note", t("field.custody_note"), placeholder=t("incident.ph.custody"))]
        self.app.push_screen(FormModal(t("incident.action.evidence"), fields, save,
                                       t("incident.evidence_intro", folder=str(ctx.store.evidence_dir))), self._done)

    def action_handled(self) -> None:
        if not self._guard(self.ACTION_ROLES["handled"]):
            return
        ctx, inc = self.app.ctx, self.inc

        def save(values):
            at = parse_time(values["at"], now=ctx.now(), zone=ctx.zone, field="handling_closed_at")
            done = mark_handled(ctx, inc.id, at, expected_version=inc.version)
            return t("cli.incident.marked_handled", code=done.code, at=fmt_local(done.handling_closed_at, ctx.zone))
        fields = [FormField("at", t("field.handling_closed_at"), value=fmt_local(ctx.now(), ctx.zone, with_zone=False))]
        self.app.push_screen(FormModal(t("incident.action.handled"), fields, save, t("incident.handled_intro")),
                             self._done)

    def action_withdraw(self) -> None:
        if not self._guard(self.ACTION_ROLES["withdraw"]):
            return
        ctx, inc = self.app.ctx, self.inc

        def save(values):
            done = withdraw_incident(ctx, inc.id, values["reason"], expected_version=inc.version)
            return t("cli.incident.withdrawn", code=done.code)
        self.app.push_screen(FormModal(t("incident.action.withdraw"), [FormField("reason", t("field.reason"))],
                                       save, t("incident.withdraw_intro")), self._done)

    def action_close_incident(self) -> None:
        """The close dialog lists what is still owed (statutory first); closing over it needs a reason."""
        if not self._guard(self.ACTION_ROLES["close_incident"]):
            return
        from models.incidents import close_checklist
        from tui.present import obligation_line
        ctx, inc = self.app.ctx, self.inc
        try:
            checklist = close_checklist(ctx, inc)
        except DomainError as exc:
            self.notify(exc.message, severity="error", markup=False)
            return
        owed = [o for o in checklist if o.is_open]
        intro = Text()
        if checklist:
            intro.append(t("incident.close_checklist_intro") + "\n")
            for ob in checklist:
                mark = "✗ " if ob.is_open else "· "
                intro.append(mark + f"[{t('figure.' + ob.figure)}] ",
                             style="bold red" if ob.is_open and ob.figure == "statutory" else "")
                intro.append(obligation_line(ctx, inc, ob, with_code=False) + "\n")
        else:
            intro.append(t("incident.close_nothing_owed") + "\n")
        intro.append(t("incident.close_intro"))

        def save(values):
            over = {"*": values["reason"]} if owed and values.get("reason", "").strip() else {}
            done = close_incident(ctx, inc.id, over, expected_version=inc.version)
            return t("cli.incident.closed", code=done.code)
        fields = [FormField("reason", t("incident.close_reason_all"))] if owed else []
        self.app.push_screen(FormModal(t("incident.action.close"), fields, save, intro), self._done)


SCREEN = IncidentScreen
