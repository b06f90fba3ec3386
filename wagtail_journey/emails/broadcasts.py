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

import logging
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext
from django_tasks import task

from wagtail_journey.emails.rendering import NotPublished
from wagtail_journey.models import Broadcast, Contact, OutboundEmail
from wagtail_journey.models.outbound import OutboundReason, OutboundStatus

logger = logging.getLogger(__name__)

#: Workers asked to send a broadcast at once (each claims its own batches).
PARALLEL_TASKS = 2


class CannotStart(Exception):
    """The broadcast cannot start (already started, variants that do not fit)."""


def start(broadcast: Broadcast, now: datetime | None = None) -> int:
    """Freeze the audience and queue one message per contact; returns the audience size.

    With two or more variants the broadcast is an A/B test (emails/ab_tests.py):
    the test share gets the variants now, the rest is held for the winner.
    """
    from wagtail_journey.emails import ab_tests
    from wagtail_journey.segments import segment_queryset

    now = now or timezone.now()
    with transaction.atomic():
        locked = Broadcast.objects.select_for_update().get(pk=broadcast.pk)
        if locked.started_at is not None:
            raise CannotStart(gettext("This broadcast has already started."))
        template = locked.template
        if not template.live or template.live_revision_id is None:
            raise NotPublished(f"Email template {template.pk} is not published.")
        plan = ab_tests.prepare(locked)
        audience = segment_queryset(locked.segment).values("pk")
        inserted = _insert_rows(locked, template, audience, now, plan)
        fields = {"status": Broadcast.Status.SENDING, "started_at": now, "audience": inserted}
        if plan:
            fields["test_ends_at"] = now + timedelta(minutes=locked.ab_wait_minutes)
        Broadcast.objects.filter(pk=locked.pk).update(**fields)
        transaction.on_commit(lambda: [send_now.enqueue() for _ in range(PARALLEL_TASKS)])
    broadcast.refresh_from_db()
    return inserted


def schedule(broadcast: Broadcast) -> bool:
    """Start at ``send_at`` (the minute sweep starts it); True if it was a draft.

    Checked now so the editor hears of it at once: a start time and a
    published template. Checked again at the start (nothing is sent otherwise).
    """
    if broadcast.send_at is None:
        raise CannotStart(gettext("Set the start time first."))
    template = broadcast.template
    if not template.live or template.live_revision_id is None:
        raise NotPublished(f"Email template {template.pk} is not published.")
    return bool(
        Broadcast.objects.filter(
            pk=broadcast.pk, status=Broadcast.Status.DRAFT, started_at__isnull=True
        ).update(status=Broadcast.Status.SCHEDULED)
    )


def unschedule(broadcast: Broadcast) -> bool:
    """Back to draft before the start time; True if it was scheduled."""
    return bool(
        Broadcast.objects.filter(pk=broadcast.pk, status=Broadcast.Status.SCHEDULED).update(
            status=Broadcast.Status.DRAFT
        )
    )


def start_due(now: datetime | None = None) -> int:
    """Sweep: start the scheduled broadcasts whose time has come; returns how many.

    One that cannot start (its template was unpublished meanwhile, a variant
    does not fit) goes back to draft with nothing sent, and the reason is in
    its history for the editor.
    """
    from wagtail.log_actions import log

    now = now or timezone.now()
    started = 0
    due = Broadcast.objects.filter(status=Broadcast.Status.SCHEDULED, send_at__lte=now)
    for broadcast in due.order_by("send_at", "pk"):
        try:
            start(broadcast, now=now)
            started += 1
        except (CannotStart, NotPublished) as exc:
            if not unschedule(broadcast):
                continue  # started or unscheduled by someone else meanwhile
            logger.warning("Scheduled broadcast %s did not start: %s", broadcast.pk, exc)
            log(
                broadcast,
                "wagtail_journey.broadcast.not_started",
                title=broadcast.name,
                data={"reason": str(exc)[:200]},
            )
    return started


def _insert_rows(broadcast: Broadcast, template, audience, now: datetime, plan=None) -> int:
    """INSERT ... SELECT: one row per contact of ``audience``, in one statement.

    Without ``plan`` every row is pending. With an A/B ``plan`` (a list of
    ab_tests.Arm) the contacts are put in a random order: the first
    ``ab_test_share`` percent (at least one per variant) are dealt to the
    variants in turn and pending, the others are held for the winner.
    """
    table = OutboundEmail._meta.db_table
    contact_table = Contact._meta.db_table
    sub_sql, sub_params = audience.query.sql_with_params()
    spacing = 60.0 / broadcast.rate_per_minute if broadcast.rate_per_minute else 0.0
    pg = connection.vendor == "postgresql"
    if pg:
        context = (
            "jsonb_build_object('first_name', c.first_name, 'last_name', c.last_name, "
            "'email', c.email)"
        )
        due = "%s::timestamptz + (c.rn - 1) * %s * interval '1 second'"
    else:  # SQLite: the text format Django stores datetimes in
        context = (
            "json_object('first_name', c.first_name, 'last_name', c.last_name, 'email', c.email)"
        )
        due = "strftime('%%Y-%%m-%%d %%H:%%M:%%f', %s, '+' || ((c.rn - 1) * %s) || ' seconds')"
    key = "'b:' || %s || ':' || c.id"
    purpose_id = None if template.transactional else template.purpose_id
    when = connection.ops.adapt_datetimefield_value(_whole_ms(now) if not pg else now)
    order = "random()" if plan else "cc.id"  # random: who is in the test share
    source = (
        "(SELECT cc.id, cc.first_name, cc.last_name, cc.email, "  # noqa: S608
        f"ROW_NUMBER() OVER (ORDER BY {order}) AS rn, COUNT(*) OVER () AS total "
        f"FROM {contact_table} cc WHERE cc.id IN ({sub_sql})) c"
    )
    if plan:
        k = len(plan)
        test = f"(c.rn * 100 <= c.total * {int(broadcast.ab_test_share)} OR c.rn <= {k})"

        def per_arm(attr: str) -> tuple[str, list]:
            whens = " ".join(f"WHEN {i} THEN CAST(%s AS BIGINT)" for i in range(k))
            sql = f"CASE WHEN {test} THEN CASE (c.rn - 1) %% {k} {whens} END END"
            return sql, [getattr(arm, attr) for arm in plan]

        status_sql = f"CASE WHEN {test} THEN %s ELSE %s END"
        status_params = [OutboundStatus.PENDING, OutboundStatus.HELD]
        columns = [per_arm(a) for a in ("variant_id", "template_id", "revision_id")]
    else:
        status_sql, status_params = "%s", [OutboundStatus.PENDING]
        columns = [("NULL", []), ("%s", [template.pk]), ("%s", [template.live_revision_id])]
    (variant_sql, variant_params), (tpl_sql, tpl_params), (rev_sql, rev_params) = columns
    # Only table names, fixed SQL and the ORM's own compiled subquery are put
    # into the text; every value is a parameter.
    sql = (
        f"INSERT INTO {table} (status, reason, detail, contact_id, address, purpose_id, "  # noqa: S608
        "message, broadcast_id, variant_id, template_id, revision_id, context, language, "
        "idempotency_key, esp_message_id, attempts, created_at, due_at, "
        "machine_opened, machine_clicked, unsubscribed) "
        f"SELECT {status_sql}, %s, '', c.id, '', %s, '', %s, {variant_sql}, {tpl_sql}, "
        f"{rev_sql}, {context}, %s, {key}, '', 0, %s, {due}, %s, %s, %s FROM {source}"
    )
    params = [
        *status_params,
        OutboundReason.NONE,
        purpose_id,
        broadcast.pk,
        *variant_params,
        *tpl_params,
        *rev_params,
        template.language,
        str(broadcast.pk),
        when,
        when,
        spacing,
        False,
        False,
        False,
        *sub_params,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _whole_ms(moment: datetime) -> datetime:
    """``moment`` without its sub-millisecond part: SQLite's strftime('%f') rounds to
    milliseconds, which could put a row's due time just after the start's ``now``."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


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
            broadcast=broadcast, status__in=[OutboundStatus.PENDING, OutboundStatus.HELD]
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
