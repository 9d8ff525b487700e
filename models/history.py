"""History: closed, withdrawn and drill incidents, found by code, title, category, grade and dates.

One line of search text, typed as people say it: words match the code or the title (every word
must match), and a few marked words narrow further::

    勒索 类别:恶意程序 级别:III 从:2026-03-01 到:2026-03-31 演练
    ransomware cat:malware grade:III from:2026-03-01 to:2026-03-31 drill

``类别:``/``cat:`` takes a category's id, code or name (taxonomy), ``级别:``/``grade:`` a grade,
``从:``/``from:`` and ``到:``/``to:`` a day (``2026-03-01``, ``2026/3/1``, ``3月1日``, or a
month ``2026-03``), and ``演练``/``drill``, ``撤销``/``withdrawn``, ``结案``/``closed`` keep one kind.
One SQL query with an index-free scan of 10,000 incidents takes a few milliseconds; at most
``LIMIT`` rows are returned, with the total.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from models.errors import ValidationError
from models.tables import Incident

LIMIT = 500
KINDS = ("closed", "withdrawn", "drill")
_KIND_WORDS = {"演练": "drill", "drill": "drill", "drills": "drill", "撤销": "withdrawn", "误报": "withdrawn",
               "withdrawn": "withdrawn", "结案": "closed", "已结案": "closed", "closed": "closed"}
_MARKS = {"类别": "category", "cat": "category", "category": "category", "级别": "grade", "grade": "grade",
          "从": "since", "from": "since", "since": "since", "到": "until", "to": "until", "until": "until"}
_TOKEN = re.compile(r"(\S+?)[:：](\S+)")


@dataclass
class Query:
    text: str = ""                       # words matched against code and title
    category: str | None = None
    grade: str | None = None
    since: date | None = None            # inclusive, local days
    until: date | None = None            # inclusive
    kinds: tuple[str, ...] = ()          # empty: all three


@dataclass
class Row:
    id: int
    code: str
    title: str
    category: str
    grade: str | None
    occurred_at: datetime
    status: str
    is_drill: bool

    @property
    def kind(self) -> str:
        return "drill" if self.is_drill else self.status


@dataclass
class Hits:
    rows: list[Row] = field(default_factory=list)
    total: int = 0


def _day(text: str, today: date, end: bool) -> date:
    s = text.strip().replace("/", "-").replace(".", "-")
    m = re.fullmatch(r"(?:(\d{4})年)?(\d{1,2})月(?:(\d{1,2})日?)?", s)
    if m:
        y = int(m.group(1) or today.year)
        mo = int(m.group(2))
        if m.group(3):
            return date(y, mo, int(m.group(3)))
        return _month_edge(y, mo, end)
    m = re.fullmatch(r"(\d{4})-(\d{1,2})(?:-(\d{1,2}))?", s)
    if m:
        y, mo = int(m.group(1)), int(m.group(2))
        if m.group(3):
            return date(y, mo, int(m.group(3)))
        return _month_edge(y, mo, end)
    m = re.fullmatch(r"(\d{4})年?", s)
    if m:
        return date(int(m.group(1)), 12, 31) if end else date(int(m.group(1)), 1, 1)
    raise ValueError(text)


def _month_edge(y: int, mo: int, end: bool) -> date:
    if not end:
        return date(y, mo, 1)
    nxt = date(y + 1, 1, 1) if mo == 12 else date(y, mo + 1, 1)
    return nxt - timedelta(days=1)


def parse_query(text: str, today: date) -> Query:
    """The search line as a ``Query``; a marked word that makes no sense is a clear message."""
    from models.taxonomy import load_taxonomy
    q = Query()
    words = []
    kinds = []
    for word in (text or "").split():
        m = _TOKEN.fullmatch(word)
        mark = _MARKS.get(m.group(1).lower()) if m else None
        if mark is None:
            kind = _KIND_WORDS.get(word.lower())
            if kind:
                kinds.append(kind)
            else:
                words.append(word)
            continue
        value = m.group(2)
        if mark == "category":
            q.category = _category(value)
        elif mark == "grade":
            g = load_taxonomy().grade(value)
            q.grade = g.id if g else None
        else:
            try:
                day = _day(value, today, end=(mark == "until"))
            except ValueError:
                raise ValidationError({"history": ("history.error.day", {"value": value})})
            setattr(q, mark, day)
    q.text = " ".join(words)
    q.kinds = tuple(dict.fromkeys(kinds))
    return q


def _category(value: str) -> str:
    """A category by id, code or name, or by a name without its ending 事件 (恶意程序)."""
    from models.taxonomy import load_taxonomy
    tax = load_taxonomy()
    try:
        return tax.category(value).id
    except ValidationError:
        pass
    try:
        return tax.category(value + "事件").id
    except ValidationError:
        hits = {cat.id for cat, sub in tax.search(value) if sub is None}
        if len(hits) == 1:
            return hits.pop()
        raise


def _like(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search(ctx, q: Query, limit: int = LIMIT) -> Hits:
    """The incidents of the history (closed, withdrawn, drills), newest first."""
    zone = ctx.zone
    where = ["(i.is_drill = 1 OR i.status IN ('closed', 'withdrawn'))"]
    args: list[Any] = []
    kinds = set(q.kinds or KINDS)
    if kinds != set(KINDS):
        parts = []
        if "drill" in kinds:
            parts.append("i.is_drill = 1")
        real = [k for k in ("closed", "withdrawn") if k in kinds]
        if real:
            parts.append(f"(i.is_drill = 0 AND i.status IN ({','.join('?' for _ in real)}))")
            args += real
        where.append("(" + " OR ".join(parts) + ")")
    for word in q.text.split():
        where.append("(i.code LIKE ? ESCAPE '\\' OR i.title LIKE ? ESCAPE '\\')")
        args += [_like(word), _like(word)]
    if q.category:
        where.append("i.category = ?")
        args.append(q.category)
    if q.grade:
        where.append("i.grade = ?")
        args.append(q.grade)
    if q.since:
        start = datetime(q.since.year, q.since.month, q.since.day, tzinfo=zone).astimezone(timezone.utc)
        where.append("i.occurred_at >= ?")
        args.append(Incident.occurred_at.db_value(start))
    if q.until:
        nxt = q.until + timedelta(days=1)
        end = datetime(nxt.year, nxt.month, nxt.day, tzinfo=zone).astimezone(timezone.utc)
        where.append("i.occurred_at < ?")
        args.append(Incident.occurred_at.db_value(end))
    cond = " AND ".join(where)
    db = ctx.store.db
    total = db.execute_sql(f"SELECT COUNT(*) FROM incident i WHERE {cond}", args).fetchone()[0]
    cur = db.execute_sql(
        f"SELECT i.id, i.code, i.title, i.category, i.grade, i.occurred_at, i.status, i.is_drill "
        f"FROM incident i WHERE {cond} ORDER BY i.occurred_at DESC, i.id DESC LIMIT ?", [*args, limit])
    rows = [Row(iid, code, title, cat, grade, datetime.fromisoformat(occ), status, bool(drill))
            for iid, code, title, cat, grade, occ, status, drill in cur.fetchall()]
    return Hits(rows, total)
