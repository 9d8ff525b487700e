"""My profile: the logged-in officer's own name, title and phone (the reports' 联系人 / 联系电话,
and 签发人 for a leader). Opened from the board's ``g`` menu or the command palette; an admin
edits anyone's on the accounts screen."""
from __future__ import annotations

from models.i18n import t
from tui.widgets.form_modal import FormField, FormModal


class ProfileForm(FormModal):
    GUIDE_SECTION = "accounts"

    def __init__(self) -> None:
        super().__init__(t("profile.screen.title"), [], self._save, intro=t("accounts_screen.profile_intro"))

    def compose(self):
        from models.profiles import profile_of
        with self.app.ctx.store.read():
            prof = profile_of(self.app.actor.username)
        self.fields = [FormField("name", t("accounts_screen.col.name"), value=prof.name if prof else ""),
                       FormField("title", t("accounts_screen.col.title"), value=prof.title if prof else ""),
                       FormField("phone", t("accounts_screen.col.phone"), value=prof.phone if prof else "",
                                 placeholder="13987654321 / 0874-3123456")]
        yield from super().compose()

    def _save(self, values: dict) -> str:
        from models.profiles import set_profile
        user = set_profile(self.app.ctx, None, name=values["name"], title=values["title"], phone=values["phone"])
        message = t("accounts_screen.profile_saved", user=user.username)
        self.app.notify(message)
        return message


SCREEN = ProfileForm
