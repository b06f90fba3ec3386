"""Built-in reactions registered at startup. Each later feature (scoring,
stages, segments, flows) adds its own module of reactions here."""

from __future__ import annotations

from django.db.models import Q

from wagtail_journey.events import SYSTEM_KINDS, reaction
from wagtail_journey.models import Contact, Touchpoint


def _touch_activity(contact_id: int, when) -> None:
    Contact.objects.filter(pk=contact_id).filter(
        Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=when)
    ).update(last_activity_at=when)


def activity_of_history(contact: Contact, touchpoints: list[Touchpoint]) -> None:
    """An identified visitor's history counts as the contact's activity (one UPDATE)."""
    times = [tp.occurred_at for tp in touchpoints if tp.kind not in SYSTEM_KINDS]
    if times:
        _touch_activity(contact.pk, max(times))


# Book-keeping, not profiling: runs for restricted contacts too (retention reads it).
@reaction("activity", order=10, history=activity_of_history, profiling=False)
def update_last_activity(touchpoint: Touchpoint) -> None:
    """Keep Contact.last_activity_at (re-activation segments read it) in one UPDATE."""
    if touchpoint.contact_id is None or touchpoint.kind in SYSTEM_KINDS:
        return
    _touch_activity(touchpoint.contact_id, touchpoint.occurred_at)


# Feature reactions register themselves on import (scoring 20, stages 30-31,
# segments 40 deferred).
from wagtail_journey import scoring, segments, stages  # noqa: E402, F401
