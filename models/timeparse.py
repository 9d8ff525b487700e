"""One parser for every time a user types, in the CLI or the TUI.

Accepted: ISO 8601 with an offset; ``YYYY-MM-DD HH:MM`` and ``HH:MM`` (today)
in the school's zone; ``now``; relative ``-90m``, ``-2h``, ``-1d`` and compounds of them, largest unit
first (``-2h50m``, ``-1d2h``, ``+1h30m``), also as ``2h50m前`` / ``2小时50分钟前`` / ``2h50m ago``
(``后`` for later), with half hours as ``半小时前`` / ``一个半小时后``; in English ``2h later`` / ``in 2h`` /
``3 hours from now`` / ``2h50m earlier``, decimals ``1.5h ago``, and words ``90 min ago``, ``2 hours and
50 minutes ago``, ``an hour ago``, ``half an hour ago``, ``an hour and a half later``; a bare ``2h50m``
(or ``1.5h``, ``half an hour``) is answered with the question ago or ahead, never guessed; and the Chinese an officer
types under stress: ``现在``/``刚才``, ``昨天15:00``, ``今天9点``, ``下午3点``, ``15点40``, ``3点半``,
``前天 8:30``, ``晚上十点一刻`` (a day word, a part of the day, an hour with 点/时/: and
minutes, 半 or 刻). Results are aware UTC datetimes; display goes through ``fmt_local``.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from fractions import Fraction
from zoneinfo import ZoneInfo

from models.errors import ValidationError
from models.i18n import t

# One relative amount: a number and its unit. Units go largest first, each at most once
# ("-2h50m", "1天2小时前"); "-2h50" (a number without a unit), "-50m2h", "-2h-50m" are refused.
# Half an hour is a part too: ``半小时``/``半个小时`` (30 minutes) and ``一个半小时`` (a number of hours and a
# half); nothing smaller may follow a half ("一个半小时20分钟前" is refused), a half of any other unit is no part.
# In English an amount may be a decimal (``1.5h``: whole minutes only, and nothing smaller after it) or
# a word (``2 hours 50 minutes``, ``an hour``, ``half an hour``, ``an hour and a half``; ``_english``).
_REL_PART = re.compile(r"\s*(?P<num>\d+(?:\.\d+)?|[零〇一二两三四五六七八九十]{1,3})?\s*(?P<half>个半|半个|半)?\s*"
                       r"(?P<unit>hours|hour|hrs|hr|minutes|minute|mins|min|days|day"
                       r"|个小时|小时|分钟|天|分|d|h|m)", re.IGNORECASE)
_REL_HALVES = {(True, "个半小时"), (False, "半小时"), (False, "半个小时")}
_REL_UNITS = {"d": 1440, "天": 1440, "h": 60, "小时": 60, "个小时": 60, "m": 1, "min": 1, "分": 1, "分钟": 1,
              "day": 1440, "days": 1440, "hour": 60, "hours": 60, "hr": 60, "hrs": 60,
              "minute": 1, "minutes": 1, "mins": 1}
_REL_SUFFIX = re.compile(r"^(?P<body>.*?)\s*(?P<when>以前|之前|前|ago|earlier|以后|之后|后|later|from\s+now)$",
                         re.IGNORECASE)
_REL_LATER = ("后", "later", "from")        # the suffixes that mean ahead (以后, 之后, from now)
_REL_IN = re.compile(r"^in\s+(?P<body>.+)$", re.IGNORECASE)     # in 2h, in half an hour: ahead
# English words for amounts, rewritten to the compact form before the parts are read.
_EN_HOUR = r"(?:hours?|hrs?|h)"
_EN_REWRITES = (
    (re.compile(r"\b(?:an?\s+)?half\s+(?:an?\s+)?hour\b"), "30min"),            # half an hour, a half hour
    (re.compile(rf"\b(?P<n>\d+|an?|one)\s*{_EN_HOUR}\s+and\s+a\s+half\b"), None),   # an hour and a half
    (re.compile(rf"\b(?P<n>\d+|an?|one)\s+and\s+a\s+half\s+{_EN_HOUR}\b"), None),   # 2 and a half hours
    (re.compile(r"\b(?:an?|one)\s+(?=(?:hours?|hrs?|minutes?|mins?|days?)\b)"), "1 "),   # an hour, a day
    (re.compile(r"\s*(?:,|\band\b)\s*"), " "),                                      # 2 hours and 50 minutes
)
_REL_MAX_MINUTES = 60 * 24 * 3660
_HM = re.compile(r"^(\d{1,2})[:：](\d{2})$")
_LOCAL = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2})[:：](\d{2})(?::(\d{2}))?$")
_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_NUM = r"\d{1,2}|[零〇一二两三四五六七八九十]{1,3}"
_ZH = re.compile(r"^(?P<day>今天|今日|昨天|昨日|昨|前天|前日)?\s*(?P<part>凌晨|早上|早晨|清晨|上午|中午|下午|傍晚|晚上|夜里|夜间|晚)?\s*"
                 rf"(?P<hour>{_NUM})\s*(?:[点點时時]|[:：](?=\s*\d))\s*"
                 rf"(?:(?P<minute>{_NUM})\s*分?|(?P<half>半)|(?P<quarter>[一三])刻)?\s*$")
_DAYS_BACK = {"今天": 0, "今日": 0, "昨天": 1, "昨日": 1, "昨": 1, "前天": 2, "前日": 2}
_PM = {"下午", "傍晚", "晚上", "夜里", "夜间", "晚"}
_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
           "九": 9}


def _number(text: str) -> int | None:
    """``15`` or ``十五`` / ``二十三`` / ``四十`` (up to 99)."""
    if text.isdigit():
        return int(text)
    if "十" not in text:
        return _DIGITS[text] if len(text) == 1 and text in _DIGITS else None
    tens, _, units = text.partition("十")
    if (tens and tens not in _DIGITS) or (units and units not in _DIGITS) or len(units) > 1:
        return None
    return (_DIGITS[tens] if tens else 1) * 10 + (_DIGITS[units] if units else 0)


def _chinese(raw: str, now: datetime, zone: ZoneInfo, field: str) -> datetime | None:
    m = _ZH.match(raw)
    if not m:
        return None
    hour = _number(m["hour"])
    minute = 30 if m["half"] else (15 if m["quarter"] == "一" else 45 if m["quarter"] else
                                   (_number(m["minute"]) if m["minute"] else 0))
    if hour is None or minute is None or hour > 23 or minute > 59:
        raise _bad(field, raw)
    part = m["part"]
    if part in _PM and hour < 12:
        hour += 12
    elif part == "中午" and hour < 11:
        hour += 12                    # 中午1点 is 13:00; 中午12点 stays 12:00
    elif part == "凌晨" and hour == 12:
        hour = 0
    day = now.astimezone(zone).date() - timedelta(days=_DAYS_BACK.get(m["day"] or "今天", 0))
    return _localize(datetime.combine(day, time(hour, minute)), zone, field, raw)


def _english(body: str) -> str:
    """English amounts in the compact form: ``half an hour`` → ``30min``, ``an hour and a half`` →
    ``1h30min``, ``an hour`` → ``1 hour``, ``2 hours and 50 minutes`` → ``2 hours 50 minutes``."""
    for pattern, replacement in _EN_REWRITES:
        if replacement is None:
            def hours_and_a_half(m: re.Match) -> str:
                n = m["n"]
                return f"{n if n.isdigit() else 1}h30min"
            body = pattern.sub(hours_and_a_half, body)
        else:
            body = pattern.sub(replacement, body)
    return body.strip()


def _direction(low: str) -> tuple[str, str] | None:
    """(sign, amount) of a relative time: ``-2h`` / ``+2h``, ``2h前`` / ``2h ago`` / ``2h earlier``,
    ``2h后`` / ``2h later`` / ``2h from now`` / ``in 2h``; None when ``low`` says no direction."""
    if low and low[0] in "+-":
        return low[0], low[1:]
    m = _REL_SUFFIX.match(low)
    if m and m["body"]:
        return ("+" if m["when"].startswith(_REL_LATER) or m["when"].endswith("后") else "-"), m["body"]
    m = _REL_IN.match(low)
    if m:
        return "+", m["body"]
    return None


def _relative(raw: str, now: datetime, field: str) -> datetime | None:
    """``-2h50m`` / ``+7d`` / ``2小时50分钟前`` / ``2h50m ago`` / ``in 2h`` / ``1.5 hours later``; None
    when ``raw`` is no relative time at all, a clear refusal when it starts like one but does not
    follow the rule."""
    low = raw.lower().strip()
    found = _direction(low)
    if found is None:
        return None
    sign, body = found
    inner = _direction(body.strip())
    if inner is not None and _starts_relative(inner[1]):     # two directions: "in 2h ago", "-2h later"
        raise _bad_relative(field, raw)
    if low[:1] not in "+-" and not _starts_relative(body):
        return None
    minutes, pos, last = Fraction(0), 0, None
    body = _english(body.rstrip())
    while pos < len(body):
        part = _REL_PART.match(body, pos)
        size = _REL_UNITS.get(part["unit"].lower()) if part else None
        decimal = bool(part and part["num"] and "." in part["num"])
        amount = (Fraction(part["num"]) if decimal else _number(part["num"])) if part and part["num"] else None
        half = part["half"] if part else None
        if half:
            if decimal or (part["num"] is not None, half + part["unit"]) not in _REL_HALVES:
                raise _bad_relative(field, raw)
            amount = amount or 0
        if part is None or size is None or amount is None or (last is not None and size >= last):
            raise _bad_relative(field, raw)
        minutes += amount * size + (30 if half else 0)
        last, pos = (1 if half or decimal else size), part.end()      # after a half or 1.5h, not even minutes
    if last is None or minutes > _REL_MAX_MINUTES or minutes.denominator != 1:
        raise _bad_relative(field, raw)
    delta = timedelta(minutes=int(minutes))
    return (now - delta if sign == "-" else now + delta).astimezone(timezone.utc)


def _starts_relative(text: str) -> bool:
    """``text`` opens with an amount and its unit (``2h``, ``两小时``, ``半小时``, ``1.5h``, ``an hour``,
    ``half an hour``), not with a date or a clock time."""
    part = _REL_PART.match(_english(text.lower()))
    return bool(part and (part["num"] or part["half"]))


def _ask_direction(raw: str, now: datetime, field: str) -> ValidationError:
    """A bare amount (``2h50m``, no sign, no 前/后): which way is not guessed. The question when it
    reads as an amount, the rule when it does not even do that."""
    try:
        _relative("-" + raw, now, field)
    except ValidationError:
        return _bad_relative(field, raw)
    return ValidationError({field: ("error.time_direction", {"text": raw})})


def _bad_relative(field: str, text: str) -> ValidationError:
    return ValidationError({field: ("error.time_relative", {"text": text})})


def time_examples() -> str:
    """The placeholder of a time field: the first forms of the list every time message shows."""
    return t("time.examples")


def time_formats() -> str:
    """Every accepted form, as the messages list them (starting with ``time_examples``)."""
    return t("time.formats", examples=time_examples())


def _bad(field: str, text: str) -> ValidationError:
    return ValidationError({field: ("error.time_unreadable", {"text": text, "formats": time_formats()})})


def parse_time(text: str, *, now: datetime, zone: ZoneInfo, field: str = "time") -> datetime:
    raw = (text or "").strip()
    if not raw:
        raise ValidationError({field: ("error.time_empty", {"formats": time_formats()})})
    low = raw.lower()
    if low in ("now", "现在", "刚才", "刚刚"):
        return now.astimezone(timezone.utc)
    rel = _relative(raw, now, field)
    if rel is not None:
        return rel
    m = _HM.match(raw)
    if m:
        hh, mm = int(m.group(1)), int(m.group(2))
        if hh > 23 or mm > 59:
            raise _bad(field, raw)
        today = now.astimezone(zone).date()
        return _localize(datetime.combine(today, time(hh, mm)), zone, field, raw)
    m = _LOCAL.match(raw)
    if m:
        y, mo, d, hh, mi, ss = m.groups()
        try:
            naive = datetime(int(y), int(mo), int(d), int(hh), int(mi), int(ss or 0))
        except ValueError:
            raise _bad(field, raw)
        return _localize(naive, zone, field, raw)
    zh = _chinese(raw, now, zone, field)
    if zh is not None:
        return zh
    m = _DATE.match(raw)
    if m:
        try:
            naive = datetime.combine(date(int(m[1]), int(m[2]), int(m[3])), time(0, 0))
        except ValueError:
            raise _bad(field, raw)
        return _localize(naive, zone, field, raw)
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        if _starts_relative(raw):
            raise _ask_direction(raw, now, field)
        raise _bad(field, raw)
    if parsed.tzinfo is None:
        return _localize(parsed, zone, field, raw)
    return parsed.astimezone(timezone.utc)


def _localize(naive: datetime, zone: ZoneInfo, field: str, raw: str) -> datetime:
    try:
        return naive.replace(tzinfo=zone).astimezone(timezone.utc)
    except (OverflowError, ValueError):
        raise _bad(field, raw)


def check_incident_times(occurred: datetime, discovered: datetime, now: datetime,
                         slack: timedelta = timedelta(minutes=1)) -> None:
    """An occurrence in the future, or a discovery before the occurrence, is refused."""
    errors = {}
    if occurred > now + slack:
        errors["occurred_at"] = ("error.time_future", {})
    if discovered > now + slack:
        errors["discovered_at"] = ("error.time_future", {})
    if discovered < occurred:
        errors["discovered_at"] = ("error.discovered_before_occurred", {})
    if errors:
        raise ValidationError(errors)


def to_local(dt: datetime, zone: ZoneInfo) -> datetime:
    return dt.astimezone(zone)


def host_zone_differs(zone: ZoneInfo, now: datetime) -> bool:
    local_offset = now.astimezone().utcoffset()
    return local_offset != now.astimezone(zone).utcoffset()


def fmt_local(dt: datetime | None, zone: ZoneInfo, *, with_zone: bool | None = None,
              seconds: bool = False, date: bool = True) -> str:
    """Show an instant in the school's zone; the zone is named when the host's differs."""
    if dt is None:
        return "—"
    local = dt.astimezone(zone)
    fmt = ("%Y-%m-%d " if date else "") + ("%H:%M:%S" if seconds else "%H:%M")
    text = local.strftime(fmt)
    if with_zone is None:
        with_zone = host_zone_differs(zone, dt)
    if with_zone:
        text += " " + (local.tzname() or str(zone))
    return text


def iso_local(dt: datetime | None, zone: ZoneInfo) -> str | None:
    return None if dt is None else dt.astimezone(zone).isoformat(timespec="seconds")


def fmt_duration(seconds: float) -> str:
    """``2h05m`` / ``9m41s``: minutes while more than ten minutes remain, seconds after."""
    s = int(abs(seconds))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    if s > 600:
        if h >= 48:
            return f"{h // 24}d{h % 24:02d}h"
        return f"{h}h{m:02d}m" if h else f"{m}m"
    return f"{m}m{sec:02d}s"


def fmt_when(dt: datetime | None, zone: ZoneInfo, now: datetime, *, with_zone: bool | None = None,
             seconds: bool = False, short: bool = False) -> str:
    """``16:23`` today; ``12-02 16:23`` on another day (``2027-01-03 16:23`` in another year): a
    deadline tomorrow, or a report sent yesterday, never reads as one of today (issue 15). Every
    time shown without its date goes through here. ``short`` (a narrow column: the board's
    deadlines): ``明 16:23`` / ``昨 16:23`` the day either side, ``12-05`` further out.""" 
    if dt is None:
        return "—"
    local, today = dt.astimezone(zone), now.astimezone(zone)
    if local.date() == today.date():
        return fmt_local(dt, zone, date=False, with_zone=with_zone, seconds=seconds)
    if short:
        return _short_day(local, today)
    text = fmt_local(dt, zone, with_zone=with_zone, seconds=seconds)
    return text if local.year != today.year else text[5:]


def _short_day(local: datetime, today: datetime) -> str:
    """``明 09:00`` / ``昨 08:30`` the day either side, ``12-05`` further out: at most 8 cells in
    Chinese (``tmrw 09:00``, 10, in English), for a column as narrow as the board's."""
    from models.i18n import t
    days = (local.date() - today.date()).days
    if days in (-1, 1):
        return t("time.tomorrow_at" if days == 1 else "time.yesterday_at", time=local.strftime("%H:%M"))
    return local.strftime("%m-%d" if local.year == today.year else "%y-%m-%d")


SHORT_WHEN_SAMPLES = ("time.tomorrow_at", "time.yesterday_at")   # the widest short forms
