"""Where things live and the school's settings.

The config file is TOML at the platformdirs user config path; ``--config`` or
``XUEJI_DUTY_CONFIG`` point elsewhere. The database defaults to the user data
path; ``--db`` or ``XUEJI_DUTY_DB`` point to a shared location.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from platformdirs import user_config_path, user_data_path

from models.errors import ValidationError

APP_NAME = "xueji-duty"
DEFAULT_BUREAU = "县教育局基教科"
DEFAULT_TZ = "Asia/Shanghai"


def default_config_path() -> Path:
    env = os.environ.get("XUEJI_DUTY_CONFIG")
    if env:
        return Path(env).expanduser()
    return user_config_path(APP_NAME, appauthor=False) / "config.toml"


def default_db_path() -> Path:
    env = os.environ.get("XUEJI_DUTY_DB")
    if env:
        return Path(env).expanduser()
    return user_data_path(APP_NAME, appauthor=False) / "duty.db"


@dataclass
class Settings:
    """What the config file may set. Unknown keys are ignored with a warning list."""

    school_name: str = ""
    bureau: str = DEFAULT_BUREAU
    timezone: str = DEFAULT_TZ
    language: str = ""
    regimes: list[str] = field(default_factory=lambda: ["school_plan", "cac_2025", "pipl"])
    alarm_minutes: list[int] = field(default_factory=lambda: [60, 30, 10, 0])
    due_soon_minutes: int = 60
    urgent_minutes: int = 15
    # School targets (minutes) that override the policy files' defaults, by "regime.stage".
    targets: dict[str, int] = field(default_factory=dict)
    idle_lock_minutes: int = 10
    password_min_length: int = 10
    lockout_attempts: int = 5
    lockout_window_minutes: int = 15
    lockout_minutes: int = 15
    # Backups (this terminal's config file): "" means a folder beside the database.
    backup_dir: str = ""
    backup_auto: bool = True          # an automatic backup at the first start of each day
    backup_keep_daily: int = 7        # automatic backups kept: the newest of each of the last N days …
    backup_keep_monthly: int = 12     # … and of each of the last M months
    backup_max_age_days: int = 2      # `check` and the board complain when the last backup is older
    extra: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def as_dict(self) -> dict:
        data = asdict(self)
        data.pop("warnings", None)
        return data


def validate_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError({"timezone": ("error.timezone_unknown", {"tz": name})})
    return name


def load_settings(path: Path | None = None) -> Settings:
    """Read the config; a missing file means defaults, a broken one a clear error."""
    path = path or default_config_path()
    settings = Settings()
    if not path.exists():
        return settings
    import tomllib      # here: most terminals have no config file, and start-up counts (issue 4)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValidationError({"config": ("error.config_unreadable", {"path": str(path), "detail": str(exc)})})
    except OSError as exc:
        raise ValidationError({"config": ("error.config_unreadable", {"path": str(path), "detail": exc.strerror or str(exc)})})
    known = {f for f in Settings.__dataclass_fields__ if f not in ("warnings", "extra")}
    for key, value in data.items():
        if key in known:
            setattr(settings, key, value)
        else:
            settings.extra[key] = value
    validate_timezone(settings.timezone)
    return settings


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(type(value))


def write_settings(settings: Settings, path: Path | None = None) -> Path:
    """Write a small TOML file by hand: tomllib cannot write and the format is flat."""
    path = path or default_config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["# Xueji Duty Desk settings", ""]
    for key, value in settings.as_dict().items():
        if key in ("extra", "targets"):
            continue
        lines.append(f"{key} = {_toml_value(value)}")
    if settings.targets:
        lines += ["", "[targets]"]
        for key, value in settings.targets.items():
            lines.append(f'"{key}" = {int(value)}')
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path
