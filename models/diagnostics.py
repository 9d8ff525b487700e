"""What ``xueji-duty doctor`` looks at: the keyring, the database file, the terminal, the time zones.

Each finding says what was seen and, when something needs attention, what to do
about it, in the officer's language. Nothing here writes anything or asks for a
password; the keyring is asked only through models/secrets.py (3 s at most).
"""
from __future__ import annotations

import os
import shutil
import stat
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from models.i18n import t

OK, INFO, WARN, FAIL = "ok", "info", "warn", "fail"
NETWORK_FS = {"nfs", "nfs4", "cifs", "smbfs", "smb3", "sshfs", "fuse.sshfs", "9p", "afs", "davfs"}


@dataclass
class Finding:
    area: str        # keyring | database | terminal | timezone
    status: str      # ok | info | warn | fail
    what: str
    todo: str = ""

    def as_dict(self) -> dict:
        return {"area": self.area, "status": self.status, "what": self.what, "todo": self.todo}


# ---------------------------------------------------------------- keyring

def keyring_findings(identity: str | None) -> list[Finding]:
    from models import secrets
    secrets.reset()
    st = secrets.status()
    if not st.usable:
        todo_key = {"keyring.reason.none": "doctor.keyring.todo_none",
                    "keyring.reason.insecure": "doctor.keyring.todo_insecure",
                    "keyring.reason.ssh": "doctor.keyring.todo_ssh",
                    "keyring.reason.hung": "doctor.keyring.todo_hung",
                    "keyring.reason.off": "doctor.keyring.todo_off"}.get(st.reason, "doctor.keyring.todo_error")
        status = INFO if st.reason == "keyring.reason.off" else WARN
        what = t("doctor.keyring.unusable", backend=st.backend, reason=t(st.reason))
        if st.detail:
            what += f" ({st.detail})"
        return [Finding("keyring", status, what, t(todo_key))]
    out = [Finding("keyring", OK, t("doctor.keyring.usable", backend=st.backend, priority=st.priority))]
    if identity:
        try:
            token = secrets.recall(identity)
        except secrets.KeyringUnavailable as exc:
            out.append(Finding("keyring", WARN, t("doctor.keyring.unusable", backend=st.backend, reason=t(exc.reason)),
                               t("doctor.keyring.todo_hung")))
            return out
        if token:
            from models.accounts import token_owner
            owner = token_owner(token, datetime.now(timezone.utc))
            if owner:
                out.append(Finding("keyring", INFO, t("doctor.keyring.remembered", user=owner),
                                   t("doctor.keyring.todo_logout")))
            else:
                out.append(Finding("keyring", INFO, t("doctor.keyring.stale"), t("doctor.keyring.todo_logout")))
        else:
            out.append(Finding("keyring", INFO, t("doctor.keyring.none_remembered")))
    return out


# ---------------------------------------------------------------- database

def _mount_type(path: Path) -> str | None:
    """The file system type holding ``path`` (Linux /proc/mounts; None elsewhere)."""
    mounts = Path("/proc/mounts")
    if not mounts.exists():
        return None
    best, kind = "", None
    target = str(path.resolve())
    try:
        for line in mounts.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3:
                point = parts[1].replace("\\040", " ")
                if (target == point or target.startswith(point.rstrip("/") + "/")) and len(point) >= len(best):
                    best, kind = point, parts[2]
    except OSError:
        return None
    return kind


def database_findings(path: Path, opened: bool, users_exist: bool | None, schema: str | None) -> list[Finding]:
    out: list[Finding] = []
    if not path.exists():
        return [Finding("database", WARN, t("doctor.db.missing", path=str(path)), t("doctor.db.todo_init"))]
    size = path.stat().st_size
    out.append(Finding("database", OK if opened else FAIL,
                       t("doctor.db.path", path=str(path), size=f"{size / 1024:.0f}", schema=schema or "?"),
                       "" if opened else t("doctor.db.todo_unopenable")))
    kind = _mount_type(path.parent)
    if kind and kind.lower() in NETWORK_FS:
        out.append(Finding("database", FAIL, t("doctor.db.network_fs", fs=kind), t("doctor.db.todo_network_fs")))
    folder = path.parent
    if not os.access(folder, os.W_OK):
        out.append(Finding("database", FAIL, t("doctor.db.folder_readonly", folder=str(folder)),
                           t("doctor.db.todo_folder")))
    if not os.access(path, os.W_OK):
        out.append(Finding("database", WARN, t("doctor.db.file_readonly"), t("doctor.db.todo_folder")))
    if os.name == "posix":
        mode = stat.S_IMODE(path.stat().st_mode)
        dmode = stat.S_IMODE(folder.stat().st_mode)
        text = t("doctor.db.mode", mode=f"{mode:04o}", dmode=f"{dmode:04o}")
        if mode & 0o004 or dmode & 0o002:
            out.append(Finding("database", WARN, text + " " + t("doctor.db.world"), t("doctor.db.todo_world")))
        elif mode & 0o020 and not dmode & 0o020:
            out.append(Finding("database", WARN, text + " " + t("doctor.db.group_folder"),
                               t("doctor.db.todo_group_folder")))
        else:
            out.append(Finding("database", OK, text))
    if users_exist is False:
        out.append(Finding("database", WARN, t("doctor.db.bootstrap"), t("doctor.db.todo_bootstrap")))
    return out


# ---------------------------------------------------------------- terminal

def terminal_findings(env: dict | None = None, size: tuple[int, int] | None = None,
                      encoding: str | None = None) -> list[Finding]:
    env = dict(os.environ if env is None else env)
    out: list[Finding] = []
    term = env.get("TERM", "")
    if os.name == "nt" and not term:
        out.append(Finding("terminal", OK, t("doctor.term.windows", wt="WT_SESSION" in env)))
    elif not term or term == "dumb":
        out.append(Finding("terminal", WARN, t("doctor.term.term", term=term or "-"), t("doctor.term.todo_term")))
    else:
        out.append(Finding("terminal", OK, t("doctor.term.term", term=term)))
    colorterm = env.get("COLORTERM", "")
    if colorterm in ("truecolor", "24bit"):
        out.append(Finding("terminal", OK, t("doctor.term.truecolor")))
    else:
        out.append(Finding("terminal", INFO, t("doctor.term.colors", colorterm=colorterm or "-"),
                           t("doctor.term.todo_colors")))
    cols, rows = size or shutil.get_terminal_size((0, 0))
    if cols and rows and (cols < 80 or rows < 24):
        out.append(Finding("terminal", WARN, t("doctor.term.size", cols=cols, rows=rows), t("doctor.term.todo_size")))
    elif cols and rows:
        out.append(Finding("terminal", OK, t("doctor.term.size", cols=cols, rows=rows)))
    else:
        out.append(Finding("terminal", INFO, t("doctor.term.no_tty")))
    ssh = env.get("SSH_CONNECTION") or env.get("SSH_CLIENT")
    if ssh:
        out.append(Finding("terminal", INFO, t("doctor.term.ssh", client=ssh.split()[0]), t("doctor.term.todo_ssh")))
    else:
        out.append(Finding("terminal", OK, t("doctor.term.local")))
    enc = (encoding or getattr(sys.stdout, "encoding", "") or "").lower().replace("-", "")
    if enc and enc != "utf8":
        out.append(Finding("terminal", WARN, t("doctor.term.encoding", enc=enc), t("doctor.term.todo_encoding")))
    return out


# ---------------------------------------------------------------- time zones

def host_zone_name(env: dict | None = None) -> str:
    env = os.environ if env is None else env
    if env.get("TZ"):
        return env["TZ"].lstrip(":")
    link = Path("/etc/localtime")
    try:
        if link.is_symlink():
            target = str(link.resolve())
            if "zoneinfo/" in target:
                return target.split("zoneinfo/", 1)[1]
    except OSError:
        pass
    return datetime.now().astimezone().tzname() or "?"


def timezone_findings(school_zone: str, now: datetime | None = None, host: str | None = None,
                      host_offset=None) -> list[Finding]:
    now = now or datetime.now(timezone.utc)
    out: list[Finding] = []
    try:
        zone = ZoneInfo(school_zone)
    except Exception:  # noqa: BLE001
        return [Finding("timezone", FAIL, t("doctor.tz.unknown", tz=school_zone), t("doctor.tz.todo_unknown"))]
    school_offset = now.astimezone(zone).utcoffset()
    host = host or host_zone_name()
    host_offset = host_offset if host_offset is not None else now.astimezone().utcoffset()
    local = now.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    out.append(Finding("timezone", OK, t("doctor.tz.school", tz=school_zone, now=local)))
    if host_offset != school_offset:
        out.append(Finding("timezone", INFO, t("doctor.tz.host_differs", host=host), t("doctor.tz.todo_host")))
    else:
        out.append(Finding("timezone", OK, t("doctor.tz.host_same", host=host)))
    out.append(Finding("timezone", INFO, t("doctor.tz.clock", utc=now.strftime("%H:%M:%S")), t("doctor.tz.todo_clock")))
    return out


# ---------------------------------------------------------------- document fonts

# Font files of the official faces on Windows (C:\Windows\Fonts), by family name.
WINDOWS_FONT_FILES = {"仿宋": ("simfang.ttf",), "黑体": ("simhei.ttf",), "楷体": ("simkai.ttf",),
                      "宋体": ("simsun.ttc",), "华文中宋": ("stzhongs.ttf",),
                      "方正小标宋简体": ("fzxbsjw.ttf", "fzxbsjw--gb1-0.ttf"), "仿宋_GB2312": ("fs_gb2312.ttf",),
                      "楷体_GB2312": ("kaiti_gb2312.ttf",), "Times New Roman": ("times.ttf",)}


def _fc(args: list[str]) -> str | None:
    import subprocess
    exe = shutil.which(args[0])
    if exe is None:
        return None
    try:
        return subprocess.run([exe, *args[1:]], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def font_present(face: str, fonts_dir: Path | None = None) -> bool | None:
    """True/False when it can be told (fontconfig, or the Windows font folder); None when not."""
    listed = _fc(["fc-list", face, "family"])
    if listed is not None:
        return any(face in line.split(",") or face == line.strip() for line in listed.splitlines())
    folder = fonts_dir or Path(os.environ.get("WINDIR", r"C:\Windows")) / "Fonts"
    if folder.is_dir():
        have = {p.name.lower() for p in folder.iterdir()}
        return any(f in have for f in WINDOWS_FONT_FILES.get(face, ()))
    return None


def font_findings(preset: str = "official") -> list[Finding]:
    """Which official faces this machine has, and what it shows (and converts to PDF) instead."""
    from models.docx_layout import soffice
    from models.documents import FONT_PRESETS
    faces = FONT_PRESETS.get(preset, FONT_PRESETS["official"])
    out: list[Finding] = []
    missing = False
    seen: set[str] = set()
    for role, face in faces.items():
        if face in seen:
            continue
        seen.add(face)
        present = font_present(face)
        name = t(f"doctor.fonts.role.{role}")
        if present is None:
            out.append(Finding("fonts", INFO, t("doctor.fonts.no_fc", faces="、".join(dict.fromkeys(faces.values())))))
            break
        if present:
            out.append(Finding("fonts", OK, t("doctor.fonts.present", role=name, face=face)))
        else:
            missing = True
            lang = "" if role == "latin" else ":lang=zh-cn"
            sub = (_fc(["fc-match", "-f", "%{family}", face + lang]) or "?").split(",")[0]
            out.append(Finding("fonts", INFO, t("doctor.fonts.substituted", role=name, face=face, sub=sub)))
    if missing:
        out[-1].todo = t("doctor.fonts.todo")
    exe = soffice()
    if exe:
        out.append(Finding("fonts", OK, t("doctor.fonts.soffice", path=exe)))
    else:
        out.append(Finding("fonts", INFO, t("doctor.fonts.no_soffice"), t("doctor.fonts.todo_soffice")))
    return out
