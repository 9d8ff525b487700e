"""Edit an incident's facts: the intake form, filled in, with a reason for changed times.

Its draft is keyed by the incident, so an interrupted edit comes back too. If
another session saved first, the service raises ``ConflictError``: the screen
lists what they changed next to what you typed, keeps your input, and the next
save is made on top of their version — deliberately, never silently.
"""
from __future__ import annotations

import time
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.widgets import Input, Static, TextArea

from models.errors import ConflictError
from models.i18n import t
from models.incidents import EDITABLE, IncidentInput, get_incident, update_incident
from models.taxonomy import load_taxonomy
from screens._incident_text import _value
from screens.new_incident import PI_ANSWERS, NewIncidentScreen, _local_text
from tui.widgets.picker import Picker
from tui.widgets.ticks import Answer

TYPING_S = 5.0      # presence says 正在编辑 this long after the last change (as the report screen)
FIELDS = ("title", "occurred_at", "discovered_at", "delay_reason", "location", "asset", "category",
          "subcategory", "personal_info", "reported_by", "description", "reason")


class EditIncidentScreen(NewIncidentScreen):
    BINDINGS = [Binding("ctrl+s", "save", t("incident.save"), priority=True, id="edit_incident.save"),  # not 登记
                Binding("ctrl+t", "take_theirs", t("merge.key.take_theirs"), id="edit_incident.theirs",
                        show=False, priority=True)]
    FIELDS = FIELDS
    CONFIRM = False                  # an edit is saved with ctrl+s; only a new record asks first
    KEYS_HINT = "incident.keys_hint_edit"
    draft_kind = "edit_incident"

    def __init__(self, incident_id: Any) -> None:
        super().__init__()
        self.incident_id = incident_id
        self.draft_key = str(incident_id)
        self.base: dict[str, Any] = {}
        self.expected_version = 0
        self.resolving: set[str] = set()     # fields shown in conflict: the next save keeps these

    def presence_target(self):
        code = getattr(self, "_code", "")
        return ("incident", str(self.incident_id), _int(self.incident_id), code) if code else None

    def presence_typing(self) -> bool:
        # _dirty alone lasts until the 1 s autosave: a colleague reading once a second rarely saw it.
        last = getattr(self, "_last_change", None)
        return bool(self._dirty) or (last is not None and time.monotonic() - last < TYPING_S)

    def prefill(self) -> None:
        ctx = self.app.ctx
        with ctx.store.read():
            inc = get_incident(self.incident_id)
        self.title = t("incident.edit_title", code=inc.code)
        self._code = inc.code
        self.incident_id = inc.id
        self.expected_version = inc.version
        self.base = {k: getattr(inc, k) for k in EDITABLE}
        self.base["personal_info"] = inc.personal_info_answer
        self._fill(self.base)

    def _fill(self, values: dict[str, Any]) -> None:
        ctx = self.app.ctx
        tax = load_taxonomy()
        for name in ("title", "location", "asset", "reported_by", "delay_reason"):
            self.query_one(f"#{name}", Input).value = values.get(name) or ""
        for name in ("occurred_at", "discovered_at"):
            self.query_one(f"#{name}", Input).value = _local_text(values[name], ctx.zone)
        cat = tax.category(values["category"])
        self.query_one("#category", Picker).set_value((cat.id, None), cat.name)
        sub = cat.sub(values["subcategory"]) if values.get("subcategory") else None
        picker = self.query_one("#subcategory", Picker)
        if sub:
            picker.set_value(sub.id, sub.name)
        else:
            picker.set_text("")
        answer = values.get("personal_info")
        self.query_one("#personal_info", Answer).value = next(k for k, v in PI_ANSWERS.items() if v is answer)
        self.query_one("#description", TextArea).text = values.get("description") or ""

    def changes(self, data: IncidentInput) -> dict[str, Any]:
        """Only what differs from what was loaded; a time is compared as the minute it shows."""
        ctx = self.app.ctx
        out: dict[str, Any] = {}
        for name in EDITABLE:
            new = getattr(data, name)
            old = self.base.get(name)
            if name in ("occurred_at", "discovered_at"):
                if _local_text(new, ctx.zone) != _local_text(old, ctx.zone):
                    out[name] = new
                continue
            if name == "personal_info":
                if new is not old:
                    out[name] = new
            elif (new or "").strip() != (old or "").strip():
                out[name] = new
        return out

    def submit(self, data: IncidentInput) -> None:
        ctx = self.app.ctx
        reason = self.query_one("#reason", Input).value
        changes = self.changes(data)
        if not changes:
            self._finish()
            self.app.pop_screen()
            return
        try:
            # Only the changed fields, with what the form showed for them: the service merges.
            inc = update_incident(ctx, self.incident_id, self.expected_version, changes, reason,
                                  base={k: self.base.get(k) for k in changes},
                                  resolved=self.resolving & set(changes))
        except ConflictError as exc:
            self.show_conflict(exc, changes)
            return
        self._finish()
        self.notify(t("incident.facts_saved", code=inc.code))
        self.app.pop_screen()

    def action_take_theirs(self) -> None:
        """ctrl+t after a conflict: the listed fields take the colleague's value (the form is the edit box)."""
        if not self.resolving:
            return
        try:
            shown = self.collect()
            mine = {k: getattr(shown, k) for k in EDITABLE if k not in self.resolving}
        except Exception:  # noqa: BLE001 - a field still invalid: the form falls back to what is stored
            mine = {}
        self._fill({**self.base, **mine})
        self.resolving = set()
        self.query_one("#conflict", Static).remove_class("-show")
        self._status(t("merge.took_theirs_fields"))

    def show_conflict(self, exc: ConflictError, mine: dict[str, Any]) -> None:
        """Only the fields both changed: base, theirs, mine. The others were saved or are theirs."""
        ctx = self.app.ctx
        text = Text(exc.message + "\n", style="bold")
        for c in exc.conflicts:
            label = t("field." + c.field, default=c.field)
            text.append(f"{label}\n", style="bold")
            text.append("  " + t("merge.base") + " " + _value(c.field, c.base, ctx) + "\n", style="dim")
            text.append("  " + t("incident.conflict_theirs") + " " + _value(c.field, c.theirs, ctx)
                        + (f"（{c.by}）" if c.by else "") + "\n")
            text.append("  " + t("incident.conflict_yours") + " " + _value(c.field, _norm(c.mine), ctx) + "\n",
                        style="bold")
        text.append(t("merge.conflict_keys"), style="dim")
        panel = self.query_one("#conflict", Static)
        panel.update(text)
        panel.add_class("-show")
        # The version the conflict returned is the new base: fields they changed show theirs,
        # what you typed stays in the form, and the next ctrl+s keeps yours for the listed fields.
        self.expected_version = exc.current_version
        self.base = {k: _from_row(k, exc.current.get(k)) for k in EDITABLE}
        if exc.current.get("personal_info_unsure"):
            self.base["personal_info"] = None
        self.resolving = {c.field for c in exc.conflicts}
        self._fill({**self.base, **{k: v for k, v in mine.items() if k in self.resolving}})
        self.query_one("#form").scroll_home()
        self._status(t("incident.conflict_status"), error=True)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _norm(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _from_row(name: str, value: Any) -> Any:
    from datetime import datetime
    if name in ("occurred_at", "discovered_at") and isinstance(value, str):
        return datetime.fromisoformat(value)
    return value


SCREEN = EditIncidentScreen
