"""Anonymous daily aggregates for visitors who have not consented.

No cookie, nothing on the device, no identifier in the database: one UPSERT
adds a page view to ``DailyPageStat`` (day, page, source). Unique visitors
are counted as Plausible does: a hash of a random salt, the IP address, the
user agent, the host and the page is remembered in the cache until the end of
the day; the salt is random, lives only in the cache and rotates daily, so the
hash cannot be recomputed or linked across days once the day is over.

The source is not part of the hash: a visitor who reaches the same page twice
in a day from two sources is one unique visitor of that page, counted on the
source of their first view, so the Audience report can add sources up.
Days are the site's local days (``TIME_ZONE``, Django's default time zone,
not the current one, which a middleware or the admin may have changed), the
days the Audience report reads them in.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import UTC, date, datetime, timedelta

from django.core.cache import caches
from django.db import connection
from django.utils import timezone

from wagtail_journey.conf import journey_settings
from wagtail_journey.models import DailyPageStat

logger = logging.getLogger(__name__)

_salts: dict[date, bytes] = {}


def _cache():
    return caches[journey_settings.RATE_LIMIT_CACHE]


def _seconds_left(now: datetime) -> int:
    """Seconds until the next local midnight (plus a minute), right on DST days too."""
    local = timezone.localtime(now, timezone.get_default_timezone())
    tomorrow = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), local.tzinfo)
    # Aware datetimes sharing a tzinfo subtract as wall clocks; in UTC they subtract as time.
    left = tomorrow.astimezone(UTC) - local.astimezone(UTC)
    return max(60, int(left.total_seconds()) + 60)


def daily_salt(day: date, now: datetime) -> bytes:
    """Today's salt, shared by every process through the cache, gone tomorrow."""
    salt = _salts.get(day)
    if salt is None:
        key = f"wj:salt:{day.isoformat()}"
        try:
            _cache().add(key, secrets.token_hex(16), timeout=_seconds_left(now))
            shared = _cache().get(key)
        except Exception:  # cache down: this process's own salt (not kept)
            logger.warning("wagtail_journey: cache unavailable for the daily salt")
            return secrets.token_hex(16).encode()
        salt = (shared or secrets.token_hex(16)).encode()
        _salts.clear()  # yesterday's salt is forgotten
        _salts[day] = salt
    return salt


def visitor_hash(day: date, now: datetime, *parts: str) -> str:
    digest = hashlib.blake2b(digest_size=12, key=daily_salt(day, now)[:64])
    for part in parts:
        digest.update(part.encode("utf-8", "replace"))
        digest.update(b"\0")
    return digest.hexdigest()


def count_view(
    *, page_id: int, source: str, ip: str, user_agent: str, host: str, unique: bool
) -> None:
    """Add one anonymous page view (and a unique visitor the first time today)."""
    now = timezone.now()
    day = timezone.localdate(now, timezone.get_default_timezone())
    new_visitor = 0
    if unique:
        h = visitor_hash(day, now, ip, user_agent, host, str(page_id))
        try:
            if _cache().add(f"wj:uv:{day.isoformat()}:{h}", 1, timeout=_seconds_left(now)):
                new_visitor = 1
        except Exception:  # cache down: the view counts, the visitor is not new
            logger.warning("wagtail_journey: cache unavailable for unique visitors")
    table = connection.ops.quote_name(DailyPageStat._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (day, page_id, source, views, visitors) "  # noqa: S608
            "VALUES (%s, %s, %s, 1, %s) "
            "ON CONFLICT (day, page_id, source) DO UPDATE SET "
            f"views = {table}.views + 1, visitors = {table}.visitors + excluded.visitors",
            [day, page_id, source, new_visitor],
        )
