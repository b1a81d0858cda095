"""The one clock: timestamps are naive UTC in the database; people read Beijing time."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

# China Standard Time has no daylight saving: a fixed offset is exact.
CST = timedelta(hours=8)


def utcnow() -> datetime:
    """Naive UTC, the one form every timestamp column holds (SQLite keeps no time zone)."""
    return datetime.now(UTC).replace(tzinfo=None)


def local_hour(value: datetime) -> int:
    """The hour of the day in Beijing of a naive-UTC timestamp."""
    return (value + CST).hour


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A naive-UTC timestamp as Beijing time, formatted; "" for None."""
    if value is None:
        return ""
    return (value + CST).strftime(fmt)
