"""Contacts to and from CSV, for admins who keep the school's phone list in Excel.

Export writes UTF-8 with a BOM and CRLF line ends, which Excel opens with the
Chinese intact. Import reads UTF-8 (with or without BOM) or GBK (what Excel
writes on a Chinese Windows), checks every row first and imports nothing
unless every row is good; each bad row is named by its line number and why.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from peewee import fn

from models import audit
from models.contacts import (is_placeholder, list_contacts, load_defaults, role_spec, validate_contact)
from models.errors import DomainError, ValidationError
from models.i18n import get_language, t
from models.roles import require
from models.tables import Contact
from models.versioning import row_dict

COLUMNS = ("name", "role", "department", "mobile", "office", "quiet_hours", "notes", "sort", "active")
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
INSERT_BATCH = 100
SHOWN_PROBLEMS = 20


def col_title(col: str, lang: str | None = None) -> str:
    return t(f"contacts_csv.col.{col}", lang=lang)


def header_aliases() -> dict[str, str]:
    """Column titles accepted on import: the ids and both languages' titles."""
    out = {}
    for col in COLUMNS:
        out[col] = col
        for lang in ("zh", "en"):
            out[col_title(col, lang).strip().lower()] = col
    return out


class ImportRejected(DomainError):
    """The file was not imported; ``problems`` lists (line, message) for every bad row."""

    key = "error.contacts.csv_rejected"

    def __init__(self, path: str, problems: list[tuple[int, str]]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(None, path=path, n=len(problems))

    @property
    def message(self) -> str:
        lines = [t(self.key, path=self.path, n=len(self.problems))]
        for line, text in self.problems[:SHOWN_PROBLEMS]:
            lines.append("  " + t("contacts_csv.line", line=line, problem=text))
        if len(self.problems) > SHOWN_PROBLEMS:
            lines.append("  " + t("contacts_csv.more", n=len(self.problems) - SHOWN_PROBLEMS))
        return "\n".join(lines)


@dataclass
class ImportResult:
    encoding: str
    added: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    unchanged: int = 0
    skipped: int = 0


# ---------------------------------------------------------------- formulas
# A cell beginning with one of these is a formula to Excel or LibreOffice (``=HYPERLINK(…)``,
# ``+cmd|' /C calc'!A0``, ``@SUM(…)``): exported with a leading apostrophe, which makes it text,
# and refused on import unless it carries that apostrophe (our own export) or is a plain
# number or phone number (``+86 138 0000 0000``, ``-1``).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-][\d\s().+-]*")


def neutralise(cell: Any) -> Any:
    return "'" + cell if isinstance(cell, str) and cell.startswith(FORMULA_START) else cell


def _formula_like(cell: str) -> bool:
    if not cell.startswith(FORMULA_START):
        return False
    return not _PLAIN_NUMBER.fullmatch(cell)


def _unneutralise(cell: str) -> str:
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_START) else cell


# ---------------------------------------------------------------- export

def _role_cell(role: str) -> str:
    spec = role_spec(role)
    if spec is None:
        return role
    return spec.zh if get_language() == "zh" else spec.en


def export_csv(path: Path | str) -> int:
    """Write every contact; returns the number of rows. Placeholders are written too (as templates)."""
    path = Path(path)
    rows = list_contacts()
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([col_title(c) for c in COLUMNS])
    yes, no = t("contacts_csv.yes"), t("contacts_csv.no")
    for c in rows:
        writer.writerow([neutralise(v) for v in (c.name, _role_cell(c.role), c.department, c.mobile, c.office,
                                                 c.quiet_hours, c.notes, str(c.sort), yes if c.active else no)])
    data = buf.getvalue().encode("utf-8-sig")
    from models.outfile import write_output
    try:
        write_output(path, data)
    except OSError as exc:
        raise DomainError("error.contacts.file_write", path=str(path), detail=exc.strerror or str(exc))
    return len(rows)


# ---------------------------------------------------------------- import

def decode(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """(text, encoding used): a BOM means UTF-8; otherwise UTF-8 if it decodes, else GBK."""
    if encoding:
        try:
            return data.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError):
            raise DomainError("error.contacts.csv_encoding_given", encoding=encoding)
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data.decode("utf-8-sig"), "utf-8"
        except UnicodeDecodeError:
            raise DomainError("error.contacts.csv_encoding")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DomainError("error.contacts.csv_utf16")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        # GB18030 is a superset of GBK that Python checks strictly: any GBK file reads the same.
        return data.decode("gb18030"), "gbk"
    except UnicodeDecodeError:
        raise DomainError("error.contacts.csv_encoding")


def _problem_text(exc: ValidationError) -> str:
    return "; ".join(f"{t('field.' + n, default=n)}: {m}" for n, m in exc.field_messages().items())


def parse_rows(text: str) -> tuple[list[tuple[int, dict[str, Any]]], list[tuple[int, str]], int]:
    """Checked rows with their line numbers, the problems found, and how many empty templates were skipped."""
    problems: list[tuple[int, str]] = []
    good: list[tuple[int, dict[str, Any]]] = []
    skipped = 0
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise DomainError("error.contacts.csv_empty")
    except csv.Error as exc:
        raise ImportRejected("", [(1, str(exc))])
    aliases = header_aliases()
    cols: list[str | None] = []
    for title in header:
        key = aliases.get(title.strip().lower())
        if key is None and title.strip():
            problems.append((1, t("contacts_csv.unknown_column", column=title.strip())))
        cols.append(key)
    if "role" not in cols:
        problems.append((1, t("contacts_csv.missing_column", column=col_title("role"))))
    if problems:
        return good, problems, skipped
    seen: dict[tuple[str, str], int] = {}
    line = reader.line_num
    while True:
        start = line + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append((start, str(exc)))
            break
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(good) + len(problems) >= MAX_ROWS:
            problems.append((start, t("contacts_csv.too_many_rows", max=MAX_ROWS)))
            break
        if len(cells) > len(cols) and any(c.strip() for c in cells[len(cols):]):
            problems.append((start, t("contacts_csv.extra_cells", n=len(cells), cols=len(cols))))
            continue
        raw = {col: cells[i] if i < len(cells) else "" for i, col in enumerate(cols) if col}
        formulas = [col for col, v in raw.items() if _formula_like(v)]
        if formulas:
            problems.append((start, t("contacts_csv.formula", column=col_title(formulas[0]))))
            continue
        raw = {col: _unneutralise(v) for col, v in raw.items()}
        try:
            clean = validate_contact(raw)
        except ValidationError as exc:
            problems.append((start, _problem_text(exc)))
            continue
        if not (clean["name"] or clean["mobile"] or clean["office"]):
            skipped += 1          # an empty role template, as exported from a fresh database
            continue
        key = (clean["role"], clean["name"])
        if clean["name"] and key in seen:
            problems.append((start, t("contacts_csv.duplicate", line=seen[key])))
            continue
        seen[key] = start
        good.append((start, clean))
    return good, problems, skipped


def import_csv(ctx, path: Path | str, encoding: str | None = None) -> ImportResult:
    """All or nothing: a contact with the same role and name is updated, an empty role slot is
    filled, anything else is added. Nothing is deleted."""
    require(ctx.actor, "admin")
    path = Path(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise DomainError("error.contacts.csv_too_big", path=str(path), max=MAX_BYTES // (1024 * 1024))
        data = path.read_bytes()
    except OSError as exc:
        raise DomainError("error.contacts.file_read", path=str(path), detail=exc.strerror or str(exc))
    text, used = decode(data, encoding)
    rows, problems, skipped = parse_rows(text)
    if problems:
        raise ImportRejected(str(path), problems)
    result = ImportResult(encoding=used, skipped=skipped)
    with ctx.store.write():
        existing = list(Contact.select())
        by_key = {(c.role, c.name): c for c in existing if c.name}
        slots: dict[str, list[Contact]] = {}
        for c in sorted(existing, key=lambda c: c.id):
            if is_placeholder(c):
                slots.setdefault(c.role, []).append(c)
        changes = []
        new_rows: list[tuple[int, dict[str, Any]]] = []
        for line, clean in rows:
            target = by_key.get((clean["role"], clean["name"])) if clean["name"] else None
            if target is None and slots.get(clean["role"]):
                target = slots[clean["role"]].pop(0)
            if target is None:
                new_rows.append((line, clean))
                continue
            delta = audit.diff(row_dict(target), clean)
            if not delta:
                result.unchanged += 1
                continue
            Contact.update({**{getattr(Contact, k): v for k, v in clean.items()},
                            Contact.version: Contact.version + 1}).where(Contact.id == target.id).execute()
            result.updated.append(target.id)
            changes.append({"line": line, "id": target.id, "changed": delta})
        # New contacts in batches: one INSERT per 100 rows rather than one per row.
        for start in range(0, len(new_rows), INSERT_BATCH):
            batch = new_rows[start:start + INSERT_BATCH]
            last = Contact.select(fn.MAX(Contact.id)).scalar() or 0
            Contact.insert_many([clean for _, clean in batch]).execute()
            ids = [c.id for c in Contact.select(Contact.id).where(Contact.id > last).order_by(Contact.id)]
            for (line, clean), cid in zip(batch, ids):
                result.added.append(cid)
                changes.append({"line": line, "id": cid, "added": clean})
        audit.record(ctx, "contact.import", "contact", "",
                     {"file": path.name, "encoding": used, "added": len(result.added),
                      "updated": len(result.updated), "rows": changes})
    return result


def roles_help() -> str:
    """The role names a file may use, for the CLI's help and error messages."""
    return ", ".join(f"{r.id}={r.zh}" for r in load_defaults().roles)
