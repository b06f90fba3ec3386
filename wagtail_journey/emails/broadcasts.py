"""Broadcasts: a template sent once to everyone in a segment, throttled, pausable.

:func:`start` freezes the audience: in the transaction that locks the broadcast
and marks it started, one INSERT ... SELECT creates an OutboundEmail row per
contact of the segment at that moment (a contact who joins the segment later
is not included; a second start does nothing). Each row's ``due_at`` spreads
the sends over time when a rate is set. The rows then go through the normal
pipeline: the gate checks consent and suppression at send time, the claims
and the sweep make each message go at most once. :func:`pause` holds the rows
not sent yet (the claim skips them), :func:`resume` releases them,
:func:`cancel` marks them skipped.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from django_tasks import task

from wagtail_journey.emails.rendering import NotPublished
from wagtail_journey.models import Broadcast, Contact, OutboundEmail
from wagtail_journey.models.outbound import OutboundReason, OutboundStatus

#: Workers asked to send a broadcast at once (each claims its own batches).
PARALLEL_TASKS = 2


class CannotStart(Exception):
    """The broadcast cannot start (already started, template not published)."""


def start(broadcast: Broadcast, now: datetime | None = None) -> int:
    """Freeze the audience and queue one message per contact; returns the audience size."""
    from wagtail_journey.segments import segment_queryset

    now = now or timezone.now()
    with transaction.atomic():
        locked = Broadcast.objects.select_for_update().get(pk=broadcast.pk)
        if locked.started_at is not None:
            raise CannotStart("already started")
        template = locked.template
        if not template.live or template.live_revision_id is None:
            raise NotPublished(f"Email template {template.pk} is not published.")
        audience = segment_queryset(locked.segment).values("pk")
        inserted = _insert_rows(locked, template, audience, now)
        Broadcast.objects.filter(pk=locked.pk).update(
            status=Broadcast.Status.SENDING, started_at=now, audience=inserted
        )
        transaction.on_commit(lambda: [send_now.enqueue() for _ in range(PARALLEL_TASKS)])
    broadcast.refresh_from_db()
    return inserted


def _insert_rows(broadcast: Broadcast, template, audience, now: datetime) -> int:
    """INSERT ... SELECT: one pending row per contact of ``audience``, in one statement."""
    table = OutboundEmail._meta.db_table
    contact_table = Contact._meta.db_table
    sub_sql, sub_params = audience.query.sql_with_params()
    spacing = 60.0 / broadcast.rate_per_minute if broadcast.rate_per_minute else 0.0
    rank = "(ROW_NUMBER() OVER (ORDER BY c.id) - 1)"
    if connection.vendor == "postgresql":
        context = (
            "jsonb_build_object('first_name', c.first_name, 'last_name', c.last_name, "
            "'email', c.email)"
        )
        due = f"%s::timestamptz + {rank} * %s * interval '1 second'"
        key = "'b:' || %s || ':' || c.id"
    else:  # SQLite: the text format Django stores datetimes in
        context = (
            "json_object('first_name', c.first_name, 'last_name', c.last_name, 'email', c.email)"
        )
        due = f"strftime('%%Y-%%m-%%d %%H:%%M:%%f', %s, '+' || ({rank} * %s) || ' seconds')"
        key = "'b:' || %s || ':' || c.id"
    purpose_id = None if template.transactional else template.purpose_id
    # Only table names, fixed SQL and the ORM's own compiled subquery are put
    # into the text; every value is a parameter.
    sql = (
        f"INSERT INTO {table} (status, reason, detail, contact_id, address, purpose_id, "  # noqa: S608
        "message, broadcast_id, template_id, revision_id, context, language, "
        "idempotency_key, esp_message_id, attempts, created_at, due_at) "
        f"SELECT %s, %s, '', c.id, '', %s, '', %s, %s, %s, {context}, %s, {key}, '', 0, %s, "
        f"{due} FROM {contact_table} c WHERE c.id IN ({sub_sql})"
    )
    when = connection.ops.adapt_datetimefield_value(now)
    params = [
        OutboundStatus.PENDING,
        OutboundReason.NONE,
        purpose_id,
        broadcast.pk,
        template.pk,
        template.live_revision_id,
        template.language,
        str(broadcast.pk),
        when,
        when,
        spacing,
        *sub_params,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


@task()
def send_now() -> dict[str, int]:
    """Task: send what is due (a started broadcast); several run side by side."""
    from wagtail_journey.emails.sending import send_due

    return send_due()


def pause(broadcast: Broadcast) -> bool:
    """Hold the messages not sent yet; True if it was sending."""
    return bool(
        Broadcast.objects.filter(pk=broadcast.pk, status=Broadcast.Status.SENDING).update(
            status=Broadcast.Status.PAUSED
        )
    )


def resume(broadcast: Broadcast) -> bool:
    """Release a paused broadcast's messages (sent by the sweep and a task now)."""
    resumed = Broadcast.objects.filter(pk=broadcast.pk, status=Broadcast.Status.PAUSED).update(
        status=Broadcast.Status.SENDING
    )
    if resumed:
        transaction.on_commit(lambda: send_now.enqueue())
    return bool(resumed)


def cancel(broadcast: Broadcast) -> int:
    """Stop for good: the messages not sent yet are skipped; returns how many."""
    with transaction.atomic():
        changed = Broadcast.objects.filter(
            pk=broadcast.pk,
            status__in=[Broadcast.Status.SENDING, Broadcast.Status.PAUSED],
        ).update(status=Broadcast.Status.CANCELLED)
        if not changed:
            return 0
        return OutboundEmail.objects.filter(
            broadcast=broadcast, status=OutboundStatus.PENDING
        ).update(
            status=OutboundStatus.SKIPPED,
            reason=OutboundReason.CANCELLED,
            event_at=timezone.now(),
        )


def progress(broadcast: Broadcast) -> dict[str, int]:
    """Messages of the broadcast per status label (one GROUP BY query)."""
    counts = dict(
        OutboundEmail.objects.filter(broadcast=broadcast)
        .values("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return {str(label): counts.get(value, 0) for value, label in OutboundStatus.choices}
