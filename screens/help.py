"""The ``?`` overlay: every key of the screen it was opened from, read from its bindings, and the
section of the user guide that covers that screen.

Reading ``BINDINGS`` rather than keeping a hand-written list means the help
can never disagree with what the keys do. As Textual's footer does, each key is asked
``check_action`` at the moment ``?`` is pressed: a key that is off there (``False``: a role the
officer lacks, a key that needs an incident, a read-only incident) is left out, one that is shown
but disabled (``None``) is listed dimmed and marked 现在不可用. A key whose action needs a role the
officer lacks (the screen's ``ACTION_ROLES``, ``tui.role_keys.RoleKeys``: the footer shows it
dimmed and, pressed, it is refused with a notice naming the role) is listed dimmed and marked
with that role (结案（需领导权限）). The guide's section is found from the screen's
``GUIDE_SECTION`` (a screen may set it) or its module's name in ``SECTIONS``;
``tests/test_docs.py`` checks that every section named here is a heading of both guides.
"""
from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Static

from models.i18n import get_language, t
from models.roles import can

ASSETS = Path(__file__).resolve().parent.parent / "assets"

# The user guide in each language, relative to the repository (docs/).
GUIDES = {"zh": "docs/guide.zh.md", "en": "docs/guide.en.md"}

# Screen module → the guide's section (its heading is the message ``help.guide.<section>``).
SECTIONS = {
    "board": "daily",
    "new_incident": "incident", "incident": "incident", "edit_incident": "incident", "grade": "incident",
    "report": "reports", "conflict": "reports",
    "contacts": "contacts", "contacts_forms": "contacts",
    "checks": "prevention", "warnings": "prevention",
    "drill": "drills", "drills": "drills",
    "registry": "prevention", "ledger": "prevention", "history": "incident",
    "stats": "stats", "statistics": "stats",
    "backup": "backup", "backups": "backup", "restore": "backup",
    "login": "accounts", "setup": "accounts", "unlock": "accounts", "password": "accounts",
    "accounts": "accounts", "users": "accounts",
    "county_board": "county",
}


def guide_section(screen_or_module) -> str | None:
    """The guide's section for a screen (or a screen module's short name), None when none fits."""
    if isinstance(screen_or_module, str):
        return SECTIONS.get(screen_or_module)
    own = getattr(type(screen_or_module), "GUIDE_SECTION", None)
    if own:
        return own
    return SECTIONS.get(type(screen_or_module).__module__.rsplit(".", 1)[-1])


def guide_line(screen: Screen | None) -> str:
    """``用户手册：docs/guide.zh.md §「值班日常」`` — where to read more about this screen."""
    lang = get_language()
    path = GUIDES.get(lang, GUIDES["zh"])
    section = guide_section(screen) if screen is not None else None
    if section is None:
        return t("help.guide_file", path=path)
    return t("help.guide_line", path=path, section=t(f"help.guide.{section}"))


def action_state(app, node, action: str) -> bool | None:
    """What ``check_action`` says of ``action`` bound on ``node`` (the screen or the app), as the
    footer asks it: True works now, None is shown disabled, False is hidden."""
    from textual.actions import ActionError, parse
    try:
        namespace, name, params = parse(action)
    except ActionError:
        return True
    target = app if namespace == "app" else (node if not namespace or namespace == "screen" else None)
    if target is None:
        return True
    try:
        return target.check_action(name, params)
    except Exception:      # a check that cannot answer now must not keep ? from opening
        return True


def role_needed(screen: Screen | None, action: str) -> str | None:
    """The role ``action`` (bound on ``screen``) needs: the screen's ``role_needed`` (tui/role_keys)
    or its ``ACTION_ROLES``."""
    if screen is None:
        return None
    from textual.actions import ActionError, parse
    try:
        namespace, name, params = parse(action)
    except ActionError:
        return None
    if namespace and namespace != "screen":
        return None
    ask = getattr(screen, "role_needed", None)
    return ask(name, params) if ask is not None else getattr(screen, "ACTION_ROLES", {}).get(name)


def binding_lines(app, screen: Screen | None) -> list[tuple[str, str, bool]]:
    """(keys, description, works now) for the screen's bindings and the app's, grouped by action; only the
    keys that work now, and those the footer would grey out marked (``help.unavailable``)."""
    groups: dict[str, list] = {}
    order: list[str] = []
    sources = []
    if screen is not None:
        sources.append((screen, getattr(type(screen), "BINDINGS", [])))
    sources.append((app, getattr(type(app), "BINDINGS", [])))
    descriptions: dict[str, str] = {}
    state: dict[str, bool | None] = {}
    actor = getattr(app, "actor", None)
    for node, bindings in sources:
        for b in bindings:
            if not isinstance(b, Binding):
                continue
            if b.action not in state:
                state[b.action] = action_state(app, node, b.action)
            if state[b.action] is False:
                continue
            for key in b.key.split(","):
                single = Binding(key.strip(), b.action, b.description)
                if b.action not in groups:
                    groups[b.action] = []
                    order.append(b.action)
                    descriptions[b.action] = b.description
                display = app.get_key_display(single)
                if display not in groups[b.action]:
                    groups[b.action].append(display)
    lines = []
    if screen is not None and screen.query(DataTable):
        lines.append(("↑ ↓ PgUp PgDn", t("help.arrows"), True))
    for action in order:
        desc = descriptions[action] or action
        works = state.get(action) is not None
        needed = role_needed(screen, action)
        if needed and actor is not None and not can(actor.role, needed):   # dimmed in the footer too
            lines.append((" ".join(groups[action]), t("help.needs_role", action=desc, role=t("role." + needed)),
                          False))
            continue
        lines.append((" ".join(groups[action]), desc if works else t("help.unavailable", action=desc), works))
    if "command_palette" not in groups:            # the app's own palette binding is listed already
        lines.append(("ctrl+p", t("help.palette"), True))
    return lines


class HelpScreen(ModalScreen):
    CSS_PATH = [ASSETS / "tcss" / "help.tcss"]
    BINDINGS = [
        Binding("escape", "close", t("board.key.close"), id="help.close"),
        Binding("question_mark", "close", t("board.key.close"), show=False, id="help.close2"),
        Binding("q", "close", t("board.key.close"), show=False, id="help.close3"),
    ]

    def __init__(self, source: Screen | None = None) -> None:
        super().__init__()
        self.source = source

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Static(Text(t("help.title"), style="bold"), id="help-title")
            table = DataTable(id="help-table", cursor_type="row", show_cursor=False)
            yield table
            yield Static(Text(guide_line(self.source)), id="help-guide")
            yield Static(t("help.hint"), id="help-hint")

    def on_mount(self) -> None:
        table = self.query_one("#help-table", DataTable)
        table.add_column(t("help.key"), key="key")
        table.add_column(t("help.action"), key="action")
        for keys, desc, works in binding_lines(self.app, self.source):
            table.add_row(Text(keys, style="bold" if works else "dim"), Text(desc, style="" if works else "dim"))
        table.focus()

    def action_close(self) -> None:
        self.dismiss()


SCREEN = HelpScreen
