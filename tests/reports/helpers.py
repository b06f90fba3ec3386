"""Building blocks for report tests: visits, submissions and orders through record()."""

from __future__ import annotations

import itertools
from datetime import datetime, time, timedelta

from django.utils import timezone

from wagtail_journey import record
from wagtail_journey.models import Visitor

_sessions = itertools.count(1000)


def at(day, hour: int = 12, minute: int = 0) -> datetime:
    """An aware datetime on a site-local day."""
    return timezone.make_aware(
        datetime.combine(day, time(hour, minute)), timezone.get_default_timezone()
    )


def visitor(*, audience_only: bool = False, contact=None) -> Visitor:
    return Visitor.objects.create(
        audience_only=audience_only,
        consented_at=None if audience_only else timezone.now(),
        contact=contact,
    )


def visit(who: Visitor, pages, start: datetime, *, utm=None, ref=None, stage="") -> int:
    """One session: page views a minute apart; the first carries the source. Returns its id."""
    session = next(_sessions)
    for i, page in enumerate(pages):
        record(
            "page_view",
            visitor=who,
            page=page,
            session=session,
            occurred_at=start + timedelta(minutes=i),
            utm=utm if i == 0 else None,
            properties={"ref": ref} if ref and i == 0 else None,
            journey_stage=stage,
            identify=False,
        )
    return session
