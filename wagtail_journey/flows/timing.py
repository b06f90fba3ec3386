"""Time arithmetic for waits: durations, and windows in the contact's time zone.

A window ("Monday to Friday, 9:00 to 17:00") is wall-clock time where the
contact lives (``Contact.time_zone``, else the site's TIME_ZONE). Wall-clock
times are combined with the zone for each day and only then converted to UTC,
so "Monday 9:00" stays 9:00 local across a daylight-saving change.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings

UNIT_SECONDS = {"minutes": 60, "hours": 3600, "days": 86400, "weeks": 604800}


def duration(value: dict[str, Any] | None) -> timedelta:
    """A duration block's raw value ({"amount": 3, "unit": "days"}) as a timedelta."""
    if not value:
        return timedelta(0)
    amount = max(int(value.get("amount") or 0), 0)
    return timedelta(seconds=amount * UNIT_SECONDS.get(value.get("unit") or "", 60))


def zone_of(contact: Any) -> ZoneInfo:
    """The contact's time zone; the site's when blank or unknown."""
    name = getattr(contact, "time_zone", "") or ""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo(settings.TIME_ZONE or "UTC")


def parse_time(raw: Any) -> time | None:
    if not raw:
        return None
    if isinstance(raw, time):
        return raw
    try:
        return time.fromisoformat(str(raw))
    except ValueError:
        return None


def _local(day, at: time, zone: ZoneInfo) -> datetime:
    # Round-trip through UTC: a wall time that does not exist (the hour skipped
    # in spring) lands on the real instant just after the change.
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC).astimezone(zone)


def next_window(
    after: datetime,
    zone: ZoneInfo,
    weekdays: list[int] | tuple[int, ...] | set[int] = (),
    start: time | None = None,
    end: time | None = None,
) -> datetime:
    """The first instant at or after ``after`` inside the window, in UTC.

    ``weekdays``: 0 = Monday ... 6 = Sunday (empty: every day); ``start`` and
    ``end``: local times (empty: the whole day). Returns ``after`` itself when
    it is already inside the window.
    """
    days = {int(d) for d in weekdays}
    if not days and start is None and end is None:
        return after
    local = after.astimezone(zone)
    for offset in range(0, 8):
        day = local.date() + timedelta(days=offset)
        if days and day.weekday() not in days:
            continue
        opens = _local(day, start or time(0), zone)
        closes = (
            _local(day, end, zone)
            if end is not None and (start is None or end > start)
            else _local(day + timedelta(days=1), time(0), zone)
        )
        if local < opens:
            return opens.astimezone(UTC)
        if local < closes:
            return after
    return after
