"""Built-in reactions registered at startup. Each later feature (scoring,
stages, segments, flows) adds its own module of reactions here."""

from __future__ import annotations

from django.db.models import Q

from wagtail_journey.events import SYSTEM_KINDS, reaction
from wagtail_journey.models import Contact, Touchpoint


@reaction("activity", order=10)
def update_last_activity(touchpoint: Touchpoint) -> None:
    """Keep Contact.last_activity_at (re-activation segments read it) in one UPDATE."""
    if touchpoint.contact_id is None or touchpoint.kind in SYSTEM_KINDS:
        return
    Contact.objects.filter(pk=touchpoint.contact_id).filter(
        Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=touchpoint.occurred_at)
    ).update(last_activity_at=touchpoint.occurred_at)


# Feature reactions register themselves on import (scoring 20, stages 30-31,
# segments 40 deferred).
from wagtail_journey import scoring, segments, stages  # noqa: E402, F401
