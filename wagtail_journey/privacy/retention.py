"""Retention of personal data (storage limitation, GDPR art. 5(1)(e)).

A daily django-q2 schedule (:data:`SCHEDULE_NAME`, created by
``manage.py journey_schedules``) applies the periods configured in
``WAGTAIL_JOURNEY`` (docs/privacy.md); ``manage.py journey_retention --dry-run``
says what would go. Each step is a set-based statement (or a few); None keeps
forever. Anonymous tracking data has its own schedule (tracking/retention.py).

- INACTIVE_CONTACT_RETENTION_DAYS: contacts with no consent in force for any
  purpose and no activity for that long are erased (privacy/erasure.py, in
  batches), leaving anonymous shells and receipts.
- SUBMISSION_RETENTION_DAYS: older form submissions lose their answers and
  browser link; the row (form, time) stays for the form's counts.
- OUTBOUND_EMAIL_RETENTION_DAYS: older outbound-email rows in a final status
  are deleted (their delivery events stay as touchpoints).
- AUDIT_RETENTION_DAYS: older Wagtail audit-log entries about the package's
  models are deleted.
- export files: deleted once downloaded or expired (privacy/export.py, run
  every 15 minutes by :data:`EXPORT_SCHEDULE_NAME`).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from wagtail_journey.conf import journey_settings
from wagtail_journey.models import ConsentPurpose, Contact, FormSubmission, OutboundEmail
from wagtail_journey.models.outbound import FINAL_STATUSES

logger = logging.getLogger(__name__)

SCHEDULE_NAME = "journey-privacy-retention"
TASK = "wagtail_journey.privacy.retention.purge"
EXPORT_SCHEDULE_NAME = "journey-privacy-exports"
EXPORT_TASK = "wagtail_journey.privacy.export.sweep_exports"
#: Contacts erased per transaction.
ERASE_BATCH = 500


def _cutoff(days: int | None, now: datetime) -> datetime | None:
    return None if days is None else now - timedelta(days=int(days))


def inactive_contacts(cutoff: datetime) -> QuerySet[Contact]:
    """Contacts not erased, with no consent in force and no activity since ``cutoff``."""
    from wagtail_journey.privacy.consent import contacts_with_consent

    qs = Contact.objects.filter(erased_at__isnull=True).filter(
        Q(last_activity_at__lt=cutoff) | Q(last_activity_at__isnull=True, created_at__lt=cutoff)
    )
    for key in ConsentPurpose.objects.values_list("key", flat=True):
        qs = qs.exclude(pk__in=contacts_with_consent(key).values("pk"))
    return qs


def old_submissions(cutoff: datetime) -> QuerySet[FormSubmission]:
    return FormSubmission.objects.filter(created_at__lt=cutoff).exclude(data={})


def old_outbound(cutoff: datetime) -> QuerySet[OutboundEmail]:
    return OutboundEmail.objects.filter(created_at__lt=cutoff, status__in=FINAL_STATUSES)


def old_audit_entries(cutoff: datetime) -> QuerySet:
    from django.apps import apps
    from django.contrib.contenttypes.models import ContentType
    from wagtail.models import ModelLogEntry

    types = ContentType.objects.get_for_models(
        *apps.get_app_config("wagtail_journey").get_models()
    ).values()
    return ModelLogEntry.objects.filter(content_type__in=list(types), timestamp__lt=cutoff)


def purge(now: datetime | None = None, *, dry_run: bool = False) -> dict[str, int]:
    """Apply every configured period; returns what went (or would go) per kind."""
    now = now or timezone.now()
    counts: dict[str, int] = {}
    cutoff = _cutoff(journey_settings.INACTIVE_CONTACT_RETENTION_DAYS, now)
    if cutoff is not None:
        counts["inactive_contacts"] = _erase_inactive(cutoff, dry_run)
    cutoff = _cutoff(journey_settings.SUBMISSION_RETENTION_DAYS, now)
    if cutoff is not None:
        qs = old_submissions(cutoff)
        counts["submissions"] = qs.count() if dry_run else qs.update(**_emptied(FormSubmission))
    cutoff = _cutoff(journey_settings.OUTBOUND_EMAIL_RETENTION_DAYS, now)
    if cutoff is not None:
        qs = old_outbound(cutoff)
        counts["outbound_emails"] = qs.count() if dry_run else qs._raw_delete(qs.db)
    cutoff = _cutoff(journey_settings.AUDIT_RETENTION_DAYS, now)
    if cutoff is not None:
        qs = old_audit_entries(cutoff)
        counts["audit_entries"] = qs.count() if dry_run else qs._raw_delete(qs.db)
    if not dry_run:
        from wagtail_journey.privacy.export import sweep_exports

        counts["export_files"] = sweep_exports(now)["files_deleted"]
    logger.info("wagtail_journey privacy retention%s: %s", " (dry run)" if dry_run else "", counts)
    return counts


def _emptied(model) -> dict:
    """The personal and derived fields of ``model`` (privacy/pii.py) set to their empty values."""
    from wagtail_journey.privacy import pii

    declared = pii.registry()[model._meta.label]
    return {n: pii.empty_value(model, n) for n in pii.resettable(model, declared.reset_fields())}


def _erase_inactive(cutoff: datetime, dry_run: bool) -> int:
    from wagtail_journey.privacy.erasure import erase_contacts

    if dry_run:
        return inactive_contacts(cutoff).count()
    total = 0
    while True:
        ids = list(
            inactive_contacts(cutoff).order_by("pk").values_list("pk", flat=True)[:ERASE_BATCH]
        )
        if not ids:
            return total
        with transaction.atomic():
            done = len(erase_contacts(ids, by="retention"))
        if not done:  # nothing erasable left (raced with another run)
            return total
        total += done
