"""Column types that keep the store honest: instants in UTC, JSON as text."""
from __future__ import annotations

import json
from datetime import datetime, timezone

from peewee import TextField


class UTCDateTimeField(TextField):
    """Stores an aware datetime as ISO 8601 UTC text; refuses naive datetimes."""

    field_type = "TEXT"

    def db_value(self, value):
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            raise ValueError(f"{self.name}: naive datetime refused (store instants in UTC)")
        return value.astimezone(timezone.utc).isoformat(timespec="microseconds")

    def python_value(self, value):
        if value is None or isinstance(value, datetime):
            return value
        dt = datetime.fromisoformat(value)
        return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


class JSONTextField(TextField):
    """JSON with sorted keys and real Unicode, so the audit hash is stable and the file readable."""

    def db_value(self, value):
        if value is None:
            return None
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)

    def python_value(self, value):
        if value is None:
            return None
        return json.loads(value)
