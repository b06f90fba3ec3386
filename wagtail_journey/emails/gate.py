"""The send-time gate: may this message go to this person now?

Run for a whole claimed batch inside the claiming transaction, so a contact who
withdraws, is suppressed or erased between queueing and sending gets nothing,
and the row says why. A bounded number of queries per batch whatever its size:
one for suppressions, one per consent purpose in the batch, one for the cap.

Marketing messages (a consent purpose) need: a valid consent for the purpose
(granted, not withdrawn, confirmed where double opt-in applies), an address
not suppressed, a contact not erased or restricted, and the frequency cap not
reached. Transactional ones (no purpose) skip the consent and the cap only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db.models import Count
from django.utils import timezone

from wagtail_journey.conf import journey_settings
from wagtail_journey.emails.suppression import suppressed_keys
from wagtail_journey.identity import normalize_email
from wagtail_journey.models import OutboundEmail
from wagtail_journey.models.outbound import ACCEPTED_STATUSES, OutboundReason, address_key
from wagtail_journey.privacy.consent import contacts_with_consent


def recipient(row: OutboundEmail) -> str:
    """The address a row goes to: its contact's current one, or its own (test sends)."""
    if row.contact_id is not None:
        return row.contact.email
    return row.address


def check(rows: Sequence[OutboundEmail], now: datetime | None = None) -> dict[int, int]:
    """The reason each row must be skipped (rows that may go are left out)."""
    now = now or timezone.now()
    reasons: dict[int, int] = {}
    live = []
    for row in rows:
        contact = row.contact if row.contact_id is not None else None
        erased = not row.address if contact is None else _erased(contact)
        if erased:
            reasons[row.pk] = OutboundReason.ERASED
        elif contact is not None and row.purpose_id is not None and _restricted(contact):
            # Restriction stops processing for marketing; transactional mail the
            # person asked for (an export link, a confirmation) still goes.
            reasons[row.pk] = OutboundReason.RESTRICTED
        elif contact is not None and row.purpose_id is not None and _objects(contact):
            reasons[row.pk] = OutboundReason.OBJECTED
        elif not recipient(row):
            reasons[row.pk] = OutboundReason.NO_ADDRESS
        else:
            live.append(row)
    blocked = suppressed_keys(recipient(r) for r in live)
    marketing = []
    for row in live:
        if address_key(normalize_email(recipient(row))) in blocked:
            reasons[row.pk] = OutboundReason.SUPPRESSED
        elif row.purpose_id is not None:
            marketing.append(row)
    _check_consent(marketing, reasons)
    _check_cap([r for r in marketing if r.pk not in reasons], reasons, now)
    return reasons


def _erased(contact) -> bool:
    return contact.erased_at is not None


def _restricted(contact) -> bool:
    return contact.restricted_at is not None


def _objects(contact) -> bool:
    return contact.objects_to_marketing_at is not None


def _check_consent(rows: list[OutboundEmail], reasons: dict[int, int]) -> None:
    by_purpose: dict[str, list[OutboundEmail]] = {}
    for row in rows:
        if row.contact_id is None:
            # A marketing message needs a person who consented; a bare address has none.
            reasons[row.pk] = OutboundReason.NO_CONSENT
            continue
        by_purpose.setdefault(row.purpose.key, []).append(row)
    for key, group in by_purpose.items():
        ok = set(
            contacts_with_consent(key)
            .filter(pk__in={r.contact_id for r in group})
            .values_list("pk", flat=True)
        )
        for row in group:
            if row.contact_id not in ok:
                reasons[row.pk] = OutboundReason.NO_CONSENT


def _check_cap(rows: list[OutboundEmail], reasons: dict[int, int], now: datetime) -> None:
    cap = journey_settings.EMAIL_FREQUENCY_CAP
    if not cap or not rows:
        return
    limit, hours = cap
    sent = Counter(
        dict(
            OutboundEmail.objects.filter(
                contact_id__in={r.contact_id for r in rows},
                sent_at__gte=now - timedelta(hours=hours),
                status__in=ACCEPTED_STATUSES,
                purpose__isnull=False,
            )
            .values("contact_id")
            .annotate(n=Count("pk"))
            .values_list("contact_id", "n")
        )
    )
    for row in sorted(rows, key=lambda r: (r.due_at, r.pk)):
        if sent[row.contact_id] >= limit:
            reasons[row.pk] = OutboundReason.FREQUENCY_CAP
        else:
            sent[row.contact_id] += 1


def in_quiet_hours(now: datetime | None = None) -> datetime | None:
    """When quiet hours end, if ``now`` is inside them (site's TIME_ZONE); else None."""
    quiet = journey_settings.EMAIL_QUIET_HOURS
    if not quiet:
        return None
    start, end = (int(h) for h in quiet)
    local = timezone.localtime(now or timezone.now(), timezone.get_default_timezone())
    hour = local.hour
    inside = (start <= hour < end) if start < end else (hour >= start or hour < end)
    if not inside:
        return None
    until = local.replace(hour=end, minute=0, second=0, microsecond=0)
    if until <= local:
        until += timedelta(days=1)
    return until
