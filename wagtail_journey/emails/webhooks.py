"""Provider events (anymail's ``tracking`` signal) become touchpoints and delivery states.

anymail's own webhook views authenticate the provider (``ANYMAIL["WEBHOOK_SECRET"]``,
basic auth; system check W075 warns when it is missing) and turn each ESP's
payload into ``AnymailTrackingEvent`` objects; :func:`on_tracking_event` gets
them one by one. The message is found by the ``outbound_email`` metadata the
sending pipeline set, or by the provider's message id. Then:

- the event is recorded as a touchpoint on the message's contact through
  ``record(dedupe_key=...)``, keyed on ``esp:event_id`` or, where the provider
  gives no event id (Postmark, except for bounces), a hash of the payload: the
  same event delivered twice is stored once, and its side effects run once;
- the row's status moves on with a conditional UPDATE (delivered, bounced,
  complained), so a late or replayed event never moves it back;
- a hard bounce or a complaint puts the address on the suppression list; an
  unsubscribe at the provider withdraws the consent the message relied on.

Events for messages this site does not know are ignored and counted
(:func:`unknown_event_count`). Database errors propagate: the view answers 500
and the provider retries.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from anymail.signals import EventType, tracking
from django.core.cache import cache
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from wagtail_journey.models import OutboundEmail
from wagtail_journey.models.outbound import OutboundReason, OutboundStatus
from wagtail_journey.models.outbound import Suppression as SuppressionModel

logger = logging.getLogger(__name__)

#: anymail event type -> touchpoint kind.
KINDS = {
    EventType.DELIVERED: "email_delivered",
    EventType.OPENED: "email_opened",
    EventType.CLICKED: "email_clicked",
    EventType.BOUNCED: "email_bounced",
    EventType.REJECTED: "email_bounced",
    EventType.DEFERRED: "email_deferred",
    EventType.COMPLAINED: "email_complained",
    EventType.UNSUBSCRIBED: "unsubscribed",
}
#: Status a row moves to, and the statuses it may move from.
TRANSITIONS = {
    EventType.DELIVERED: (
        OutboundStatus.DELIVERED,
        (OutboundStatus.SENT, OutboundStatus.UNKNOWN),
    ),
    EventType.BOUNCED: (
        OutboundStatus.BOUNCED,
        (OutboundStatus.SENT, OutboundStatus.UNKNOWN, OutboundStatus.DELIVERED),
    ),
    EventType.REJECTED: (
        OutboundStatus.BOUNCED,
        (OutboundStatus.SENT, OutboundStatus.UNKNOWN),
    ),
    EventType.COMPLAINED: (
        OutboundStatus.COMPLAINED,
        (
            OutboundStatus.SENT,
            OutboundStatus.UNKNOWN,
            OutboundStatus.DELIVERED,
            OutboundStatus.BOUNCED,
        ),
    ),
}
UNKNOWN_COUNTER = "wagtail_journey:webhooks:unknown"
#: Keys with which providers flag an open as made by a proxy or a machine
#: (SendGrid's Apple Mail Privacy Protection opens, Brevo's proxy opens ...).
MACHINE_FLAGS = ("sg_machine_open", "proxy_open", "machine_open", "is_machine_open")


def unknown_event_count() -> int:
    """Events received for messages this site does not know (since the cache was cleared)."""
    return int(cache.get(UNKNOWN_COUNTER, 0))


def _count_unknown() -> None:
    try:
        cache.incr(UNKNOWN_COUNTER)
    except ValueError:  # not there yet
        if not cache.add(UNKNOWN_COUNTER, 1, timeout=None):
            cache.incr(UNKNOWN_COUNTER)


def dedupe_key(event: Any, esp_name: str) -> str:
    """``esp:event_id``, or ``esp:h:`` + a hash of the payload when there is no event id."""
    esp = (esp_name or "esp").lower()[:20]
    if event.event_id:
        return f"{esp}:{event.event_id}"[:128]
    raw = event.esp_event
    if isinstance(raw, dict | list):
        body = json.dumps(raw, sort_keys=True, default=str)
    else:
        body = "|".join(
            str(x) for x in (event.message_id, event.event_type, event.timestamp, event.recipient)
        )
    return f"{esp}:h:{hashlib.sha256(body.encode()).hexdigest()}"


def find_message(event: Any) -> OutboundEmail | None:
    """The row an event is about: by our metadata, else by the provider's message id."""
    rows = OutboundEmail.objects.select_related("contact", "purpose")
    pk = (event.metadata or {}).get("outbound_email")
    if pk is not None:
        try:
            return rows.filter(pk=int(pk)).first()
        except (TypeError, ValueError):
            return None
    if event.message_id:
        return rows.filter(esp_message_id=str(event.message_id)[:64]).first()
    return None


@receiver(tracking, dispatch_uid="wagtail_journey.emails.webhooks")
def on_tracking_event(sender: Any, event: Any, esp_name: str, **kwargs: Any) -> None:
    kind = KINDS.get(event.event_type)
    if kind is None:
        return  # queued, sent, unknown ...: nothing to record
    row = find_message(event)
    if row is None:
        _count_unknown()
        logger.info("Ignored a %s event from %s for an unknown message", kind, esp_name)
        return
    handle(row, event, esp_name, kind)


def handle(row: OutboundEmail, event: Any, esp_name: str, kind: str) -> bool:
    """Record one event for ``row``; False when it was a replay (nothing done)."""
    from wagtail_journey.emails.stats import note_engagement
    from wagtail_journey.events import MACHINE_MADE, is_machine_made, record

    when = event.timestamp or timezone.now()
    machine = machine_reason(row, event)
    with transaction.atomic():
        if row.contact_id is not None:
            properties = {"outbound_email": row.pk, "esp": esp_name}
            if event.click_url:
                properties["url"] = str(event.click_url)[:500]
            if event.reject_reason:
                properties["reason"] = str(event.reject_reason)
            if machine:
                # Recorded, but no reaction runs for it (events.MACHINE_MADE).
                properties[MACHINE_MADE] = True
                properties["machine_reason"] = machine
            touchpoint = record(
                kind,
                contact=row.contact,
                occurred_at=when,
                properties=properties,
                dedupe_key=dedupe_key(event, esp_name),
            )
            if not touchpoint.is_new:
                return False
            machine = is_machine_made(touchpoint)
        note_engagement(row.pk, kind, bool(machine), when)
        transition = TRANSITIONS.get(event.event_type)
        if transition is not None:
            status, sources = transition
            fields: dict[str, Any] = {"status": status, "event_at": when}
            if status == OutboundStatus.BOUNCED:
                fields["reason"] = OutboundReason.HARD_BOUNCE
            elif status == OutboundStatus.COMPLAINED:
                fields["reason"] = OutboundReason.COMPLAINT
            OutboundEmail.objects.filter(pk=row.pk, status__in=sources).update(**fields)
        _side_effects(row, event)
    return True


def machine_reason(row: OutboundEmail, event: Any) -> str:
    """Why an open or click looks machine-made ("" when it looks human): the
    provider flagged it, a scanner's user agent, or too soon after sending."""
    if event.event_type not in (EventType.OPENED, EventType.CLICKED):
        return ""
    raw = event.esp_event if isinstance(event.esp_event, dict) else {}
    if any(raw.get(key) for key in MACHINE_FLAGS):
        return "provider_flag"
    from wagtail_journey.conf import journey_settings
    from wagtail_journey.emails.clicks import machine_reason as click_reason

    when = event.timestamp or timezone.now()
    since = (when - row.sent_at).total_seconds() if row.sent_at else float("inf")
    if event.user_agent:
        return click_reason(event.user_agent, since)
    # Some providers send no user agent: only the timing can tell.
    return "too_soon" if since <= journey_settings.EMAIL_MACHINE_CLICK_SECONDS else ""


def _side_effects(row: OutboundEmail, event: Any) -> None:
    from wagtail_journey.emails.gate import recipient
    from wagtail_journey.emails.suppression import suppress
    from wagtail_journey.emails.unsubscribe import withdraw

    address = event.recipient or recipient(row)
    hard = event.event_type == EventType.BOUNCED or (
        event.event_type == EventType.REJECTED and event.reject_reason in ("bounced", "invalid")
    )
    if hard and address:
        suppress(address, SuppressionModel.Source.BOUNCE, str(event.description or "")[:200])
    elif event.event_type == EventType.COMPLAINED and address:
        suppress(address, SuppressionModel.Source.COMPLAINT)
    elif event.event_type == EventType.UNSUBSCRIBED:
        withdraw(row.pk)
