"""The sending pipeline: queue a message, claim it, gate it, send it, record what happened.

The database holds the state, the workers only execute (docs/email-delivery.md):

1. :func:`queue` creates one ``OutboundEmail`` per logical send (its
   ``idempotency_key`` is unique, so queueing twice creates one row) and, after
   the caller's transaction commits, enqueues :data:`deliver` for it.
2. :func:`send_batch` claims due ``pending`` rows in one transaction
   (``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers on
   several machines share the work; SQLite has one writer), re-checks consent
   and suppression there (emails/gate.py), marks the rows that may not go
   ``skipped`` with their reason and the others ``sending``, and commits.
3. Outside any transaction each claimed message is rendered and handed to the
   configured anymail backend, with ``metadata={"outbound_email": pk}`` and
   the List-Unsubscribe headers. The outcome of the whole batch is written in
   one UPDATE: ``sent`` (with the provider's message id), ``failed`` (the
   provider refused it), back to ``pending`` with a later ``due_at`` (the
   provider could not be reached or said "try later"), or ``unknown`` (it did
   not answer: the message may have gone, so a person decides).
4. :func:`sweep` (django-q2 schedule every minute) marks rows left ``sending``
   by a dead worker ``unknown`` and sends whatever is due, so a task lost with
   a crashed worker loses nothing and a task delivered twice sends nothing twice.

A batch costs a constant number of queries whatever its size.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import requests
from anymail.exceptions import AnymailError, AnymailRecipientsRefused, AnymailRequestsAPIError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Case, CharField, DateTimeField, F, IntegerField, Value, When
from django.utils import timezone, translation
from django_tasks import task

from wagtail_journey.conf import journey_settings
from wagtail_journey.emails import gate, messages, unsubscribe
from wagtail_journey.models import OutboundEmail
from wagtail_journey.models.outbound import OutboundReason, OutboundStatus
from wagtail_journey.privacy import preferences

logger = logging.getLogger(__name__)

SWEEP_SCHEDULE = "journey-email-sweep"
SWEEP_TASK = "wagtail_journey.emails.sending.sweep"
#: Broadcast statuses whose messages are not claimed.
HELD_BROADCASTS = ("paused", "cancelled", "draft")
#: At most this many batches per sweep run (the next run continues).
MAX_BATCHES_PER_RUN = 1000


def queue(
    *,
    idempotency_key: str,
    contact: Any = None,
    address: str = "",
    purpose: Any = None,
    message: str = "",
    template: Any = None,
    revision: Any = None,
    context: dict | None = None,
    language: str = "",
    due_at: datetime | None = None,
) -> tuple[OutboundEmail, bool]:
    """Queue one message (once per ``idempotency_key``); returns (row, created).

    ``purpose`` None makes it transactional. The message is sent after the
    current transaction commits (at once if there is none), or by the sweep
    once ``due_at`` has come.
    """
    now = timezone.now()
    row, created = OutboundEmail.objects.get_or_create(
        idempotency_key=idempotency_key,
        defaults={
            "contact": contact,
            "address": "" if contact is not None else address,
            "purpose": purpose,
            "message": message,
            "template": template,
            "revision": revision,
            "context": context or {},
            "language": language or translation.get_language() or "",
            "due_at": due_at or now,
        },
    )
    if created and row.due_at <= now:
        pk = row.pk
        # robust: a broker that is down is logged, never the visitor's 500; the
        # row stays pending and the minute sweep sends it.
        transaction.on_commit(lambda: deliver.enqueue([pk]), robust=True)
    return row, created


def queue_template(
    template: Any,
    contact: Any,
    *,
    idempotency_key: str,
    due_at: datetime | None = None,
) -> tuple[OutboundEmail, bool]:
    """Queue an editor's template (its live revision) to ``contact``.

    The consent purpose comes from the template (none: transactional); the
    contact's merge-tag values are stored as the row's small context.
    """
    from wagtail_journey.emails.rendering import NotPublished, personalisation_context

    if not template.live or template.live_revision_id is None:
        raise NotPublished(f"Email template {template.pk} is not published.")
    return queue(
        idempotency_key=idempotency_key,
        contact=contact,
        purpose=None if template.transactional else template.purpose,
        template=template,
        revision=template.live_revision,
        context=personalisation_context(contact),
        language=template.language,
        due_at=due_at,
    )


@task()
def deliver(ids: list[int]) -> dict[str, int]:
    """Task: send the given rows if they are still pending (a repeated task sends nothing)."""
    return send_batch(ids=ids)


def send_due(
    limit_batches: int = MAX_BATCHES_PER_RUN, seconds: float | None = None
) -> dict[str, int]:
    """Send due messages, batch after batch, for at most ``seconds``
    (EMAIL_RUN_SECONDS) before a new batch; returns counts by outcome.

    The time limit keeps a task well inside django-q2's own timeout: a task the
    cluster kills for running too long would leave its batch in doubt.
    """
    budget = journey_settings.EMAIL_RUN_SECONDS if seconds is None else seconds
    ends = time.monotonic() + budget
    totals: dict[str, int] = {}
    for index in range(limit_batches):
        if index and time.monotonic() >= ends:
            break
        counts = send_batch()
        for key, value in counts.items():
            totals[key] = totals.get(key, 0) + value
        if not counts.get("claimed"):
            break
    return totals


def sweep() -> dict[str, int]:
    """Schedule: stale ``sending`` rows become ``unknown``; scheduled broadcasts
    start, A/B tests whose time is up get their winner; due messages are sent."""
    from wagtail_journey.emails import ab_tests, broadcasts

    stale = mark_stale_unknown()
    broadcasts.start_due()
    ab_tests.pick_due()
    totals = send_due()
    totals["unknown"] = totals.get("unknown", 0) + stale
    return totals


def mark_stale_unknown(now: datetime | None = None) -> int:
    """Rows claimed longer ago than EMAIL_SENDING_STALE_SECONDS: their worker died."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=journey_settings.EMAIL_SENDING_STALE_SECONDS)
    return OutboundEmail.objects.filter(
        status=OutboundStatus.SENDING, claimed_at__lt=cutoff
    ).update(status=OutboundStatus.UNKNOWN, reason=OutboundReason.NO_ANSWER, event_at=now)


def send_batch(ids: Iterable[int] | None = None, *, now: datetime | None = None) -> dict[str, int]:
    """Claim, gate and send one batch; returns counts (claimed, sent, skipped, ...)."""
    now = now or timezone.now()
    claimed = _claim(ids, now)
    counts = {"claimed": len(claimed) + claimed.skipped, "skipped": claimed.skipped}
    if not claimed:
        return counts
    outcomes = _send_all(claimed)
    _store_outcomes(outcomes, now)
    for outcome in outcomes.values():
        counts[outcome[0]] = counts.get(outcome[0], 0) + 1
    return counts


class _Claimed(list):
    skipped = 0


def _claim(ids: Iterable[int] | None, now: datetime) -> _Claimed:
    """In one transaction: lock due pending rows, gate them, mark them sending or skipped."""
    qs = OutboundEmail.objects.filter(status=OutboundStatus.PENDING, due_at__lte=now)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    # A paused or cancelled broadcast's messages wait (or were skipped).
    qs = qs.exclude(broadcast__status__in=HELD_BROADCASTS)
    if gate.in_quiet_hours(now):
        qs = qs.filter(purpose__isnull=True)  # marketing waits for the end of quiet hours
    with transaction.atomic():
        rows = list(
            qs.select_related("contact", "purpose", "revision", "variant")
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("due_at", "pk")[: journey_settings.EMAIL_BATCH_SIZE]
        )
        if not rows:
            return _Claimed()
        pks = [r.pk for r in rows]
        claimed = OutboundEmail.objects.filter(pk__in=pks, status=OutboundStatus.PENDING).update(
            status=OutboundStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
        if claimed != len(rows):  # only where rows cannot be locked: take what is ours
            mine = set(
                OutboundEmail.objects.filter(
                    pk__in=pks, status=OutboundStatus.SENDING, claimed_at=now
                ).values_list("pk", flat=True)
            )
            rows = [r for r in rows if r.pk in mine]
        reasons = gate.check(rows, now)
        if reasons:
            _set_status(reasons, OutboundStatus.SKIPPED, now)
    result = _Claimed(r for r in rows if r.pk not in reasons)
    result.skipped = len(reasons)
    return result


def _set_status(reasons: dict[int, int], status: int, now: datetime) -> None:
    """One UPDATE for rows with per-row reasons."""
    OutboundEmail.objects.filter(pk__in=list(reasons)).update(
        status=status,
        reason=Case(
            *[When(pk=pk, then=Value(reason)) for pk, reason in reasons.items()],
            output_field=IntegerField(),
        ),
        event_at=now,
    )


def _send_all(rows: list[OutboundEmail]) -> dict[int, tuple]:
    """Send each row through one connection; returns pk -> (outcome, reason, detail, esp id)."""
    outcomes: dict[int, tuple] = {}
    conn = get_connection()
    with conn:
        for row in rows:
            outcomes[row.pk] = _send_one(row, conn)
    return outcomes


def _send_one(row: OutboundEmail, conn: Any) -> tuple:
    try:
        message = _build(row, conn)
    except messages.TemplateGone:
        return ("skipped", OutboundReason.TEMPLATE_GONE, "", "")
    except Exception as exc:  # nothing left the machine: the row says why
        logger.exception("Rendering outbound email %s failed", row.pk)
        return ("failed", OutboundReason.RENDER_FAILED, _short(exc), "")
    try:
        message.send()
    except AnymailRecipientsRefused as exc:
        return ("failed", OutboundReason.ESP_REJECTED, _short(exc), "")
    except AnymailRequestsAPIError as exc:
        return _api_error(row, exc)
    except AnymailError as exc:
        return ("failed", OutboundReason.ESP_REJECTED, _short(exc), "")
    except ConnectionRefusedError as exc:  # e.g. SMTP server down: nothing was sent
        return _retry_or_fail(row, exc)
    except Exception as exc:
        logger.exception("Sending outbound email %s failed without an answer", row.pk)
        return ("unknown", OutboundReason.NO_ANSWER, _short(exc), "")
    status = getattr(message, "anymail_status", None)
    esp_id = getattr(status, "message_id", None)
    return ("sent", OutboundReason.NONE, "", "" if esp_id is None else str(esp_id)[:64])


def _api_error(row: OutboundEmail, exc: AnymailRequestsAPIError) -> tuple:
    code = exc.status_code
    cause = exc.__cause__
    if code is None:
        # No HTTP answer. A failed connection sent nothing: try again later.
        # A timeout after the request went out may have sent it: a person decides.
        if isinstance(cause, requests.ConnectionError) and not isinstance(
            cause, requests.ReadTimeout
        ):
            return _retry_or_fail(row, exc)
        return ("unknown", OutboundReason.NO_ANSWER, _short(exc), "")
    if code == 429 or code >= 500:
        return _retry_or_fail(row, exc)
    return ("failed", OutboundReason.ESP_REJECTED, _short(exc), "")


def _retry_or_fail(row: OutboundEmail, exc: BaseException) -> tuple:
    attempt = row.attempts + 1  # the claim counted this try in the database
    if attempt >= journey_settings.EMAIL_MAX_ATTEMPTS:
        return ("failed", OutboundReason.RETRIES_EXHAUSTED, _short(exc), "")
    wait = timedelta(seconds=journey_settings.EMAIL_RETRY_SECONDS * 2 ** (attempt - 1))
    return ("retry", OutboundReason.NONE, _short(exc), "", wait)


def _short(exc: BaseException) -> str:
    return (" ".join(str(exc).split()) or type(exc).__name__)[:200]


def _build(row: OutboundEmail, conn: Any) -> EmailMultiAlternatives:
    links: dict[str, Any] = {"preferences": preferences.footer_link(row)}
    extra_headers: dict[str, str] = {}
    if row.purpose_id is not None:
        links["unsubscribe"] = unsubscribe.unsubscribe_url(row.pk)
        extra_headers = unsubscribe.headers(row.pk, links["unsubscribe"])
    with translation.override(row.language or None):
        built = messages.build(row, links)
    from_email = built.from_email or journey_settings.FROM_EMAIL or None
    message = EmailMultiAlternatives(
        subject=built.subject,
        body=built.text,
        from_email=from_email,
        to=[gate.recipient(row)],
        reply_to=list(built.reply_to or []),
        # One recipient per message: these headers are that recipient's own
        # (merge_headers matter only for batch sends to many recipients).
        headers=extra_headers,
        connection=conn,
    )
    if built.html:
        message.attach_alternative(built.html, "text/html")
    # Opaque ids only: no personal data goes to the provider as metadata.
    message.metadata = {"outbound_email": str(row.pk)}
    # One tag (Postmark and others accept only one): what kind of message it is.
    message.tags = [row.message or "template"]
    return message


def _store_outcomes(outcomes: dict[int, tuple], now: datetime) -> None:
    """The whole batch's results in one UPDATE (of rows still ``sending`` only)."""
    status_of = {
        "sent": OutboundStatus.SENT,
        "failed": OutboundStatus.FAILED,
        "skipped": OutboundStatus.SKIPPED,
        "unknown": OutboundStatus.UNKNOWN,
        "retry": OutboundStatus.PENDING,
    }

    def case(values: dict[int, Any], field: Any, default: Any) -> Case:
        return Case(
            *[When(pk=pk, then=Value(v)) for pk, v in values.items()],
            default=default,
            output_field=field,
        )

    items = outcomes.items()
    OutboundEmail.objects.filter(pk__in=list(outcomes), status=OutboundStatus.SENDING).update(
        status=case({pk: status_of[o[0]] for pk, o in items}, IntegerField(), F("status")),
        reason=case({pk: int(o[1]) for pk, o in items}, IntegerField(), F("reason")),
        detail=case({pk: o[2] for pk, o in items}, CharField(), F("detail")),
        esp_message_id=case(
            {pk: o[3] for pk, o in items if o[3]}, CharField(), F("esp_message_id")
        ),
        sent_at=case({pk: now for pk, o in items if o[0] == "sent"}, DateTimeField(), F("sent_at")),
        due_at=case(
            {pk: now + o[4] for pk, o in items if o[0] == "retry"}, DateTimeField(), F("due_at")
        ),
        event_at=now,
    )


def forget_contact(sender: Any, instance: Any, **kwargs: Any) -> None:
    """pre_delete of a Contact: its messages keep their counts, not its personal data."""
    OutboundEmail.objects.filter(contact=instance).update(context={}, address="")
