"""Retention: delete anonymous visitor data past its retention period.

Runs daily as a django-q2 schedule (created by ``manage.py journey_schedules``
and after every ``migrate``). Each step is one set-based DELETE; the task is
idempotent and safe to run twice.

- touchpoints that never joined a contact, older than ANONYMOUS_RETENTION_DAYS
- audience-only touchpoints older than AUDIENCE_RETENTION_DAYS (exempt mode: 25 months)
- visitors never identified and not seen for ANONYMOUS_RETENTION_DAYS, with
  whatever still points at them
- the ids of tracking batches stored more than a day ago (tracking/buffer.py
  needs them only while a batch can still be retried)
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import models, transaction
from django.utils import timezone

from wagtail_journey.conf import journey_settings
from wagtail_journey.models import Touchpoint, TrackingBatch, Visitor

logger = logging.getLogger(__name__)

SCHEDULE_NAME = "wagtail_journey: purge anonymous tracking data"
TASK = "wagtail_journey.tracking.retention.purge_anonymous_data"


def _delete(queryset: models.QuerySet) -> int:
    # One DELETE ... WHERE statement, without loading rows into Python.
    return queryset._raw_delete(queryset.db)


def purge_anonymous_data(now=None) -> dict[str, int]:
    now = now or timezone.now()
    anon_cutoff = now - timedelta(days=journey_settings.ANONYMOUS_RETENTION_DAYS)
    audience_cutoff = now - timedelta(days=journey_settings.AUDIENCE_RETENTION_DAYS)
    counts = {}
    with transaction.atomic():
        counts["touchpoints"] = _delete(
            Touchpoint.objects.filter(contact__isnull=True, occurred_at__lt=anon_cutoff)
        )
        counts["audience_touchpoints"] = _delete(
            Touchpoint.objects.filter(audience_only=True, occurred_at__lt=audience_cutoff)
        )
        stale = Visitor.objects.filter(contact__isnull=True, last_seen_at__lt=anon_cutoff)
        stale_ids = stale.values("pk")
        for rel in Visitor._meta.related_objects:
            if not (rel.one_to_many or rel.one_to_one):
                continue
            related = rel.related_model._base_manager.filter(**{f"{rel.field.name}__in": stale_ids})
            if rel.on_delete is models.CASCADE:
                _delete(related)
            else:  # SET_NULL / SET_DEFAULT / DO_NOTHING: detach
                related.update(**{rel.field.name: None})
        counts["visitors"] = _delete(
            Visitor.objects.filter(contact__isnull=True, last_seen_at__lt=anon_cutoff)
        )
    counts["tracking_batches"] = _delete(
        TrackingBatch.objects.filter(stored_at__lt=now - timedelta(days=1))
    )
    logger.info("wagtail_journey retention purge: %s", counts)
    return counts
