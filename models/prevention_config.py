"""The prevention settings a school may change, read from the config file.

They are plain keys in ``config.toml`` (kept in ``Settings.extra`` so the
shared settings class needs no change); defaults are the values below. The
90-day rotation is school policy, not a national rule (education-rules §3.3).

    semester_starts = ["03-01", "09-01"]   # MM-DD each semester begins
    password_rotation_days = 90
    account_idle_months = 6                # 2025 学籍管理办法: seal accounts unused for six months
    warning_departments = ["教务处", "行政办", "政教处", "总务处", "学籍管理员"]
"""
from __future__ import annotations

from models.cadence import SchoolCalendar
from models.errors import ValidationError

DEFAULT_ROTATION_DAYS = 90
DEFAULT_IDLE_MONTHS = 6
# The plan's 领导小组 members (三、1.): the departments a warning response reaches.
DEFAULT_DEPARTMENTS = ("教务处", "行政办", "政教处", "总务处", "学籍管理员")


def _get(settings, key, default):
    value = getattr(settings, key, None)
    if value is None:
        value = (getattr(settings, "extra", None) or {}).get(key, default)
    return value


def school_calendar(settings) -> SchoolCalendar:
    try:
        return SchoolCalendar.from_strings(_get(settings, "semester_starts", None))
    except (ValueError, TypeError):
        raise ValidationError({"semester_starts": ("prevention.error.semester_starts", {})})


def _positive_int(settings, key, default) -> int:
    value = _get(settings, key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValidationError({key: ("prevention.error.positive_setting", {"key": key})})
    return value


def rotation_days(settings) -> int:
    return _positive_int(settings, "password_rotation_days", DEFAULT_ROTATION_DAYS)


def idle_months(settings) -> int:
    return _positive_int(settings, "account_idle_months", DEFAULT_IDLE_MONTHS)


def warning_departments(settings) -> list[str]:
    value = _get(settings, "warning_departments", None)
    if not value:
        return list(DEFAULT_DEPARTMENTS)
    return [str(v) for v in value if str(v).strip()]
