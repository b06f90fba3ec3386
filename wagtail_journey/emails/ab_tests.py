"""A/B tests of broadcasts: variants, a random test share, one winner, the rest.

A broadcast with two or more variants (another subject and/or another
template) is an A/B test. At the start (emails/broadcasts.py) the audience is
frozen as usual, in one INSERT ... SELECT that orders it at random: the first
``ab_test_share`` percent (at least one contact per variant) are dealt to the
variants in turn and sent at once; every other row is ``held``.

:func:`pick_winner` runs ``ab_wait_minutes`` after the start (from the minute
sweep, :func:`pick_due`) or when an editor asks for it. It compares the
variants by unique human opens or clicks over the messages sent (emails/stats.py:
machine-made opens and clicks do not count), takes the best (the first variant
on a tie, or when nothing was sent yet) and releases the held rows with the
winner's subject and template revision, in one UPDATE. The broadcast row is
locked while it does so and the winner is set only where none is, so it happens
exactly once even when several workers and an editor ask at the same moment.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from wagtail_journey.models import Broadcast, BroadcastVariant, OutboundEmail
from wagtail_journey.models.outbound import OutboundStatus


@dataclass(frozen=True)
class Arm:
    """What the messages of one variant carry (frozen at the start)."""

    variant_id: int
    template_id: int
    revision_id: int


def prepare(broadcast: Broadcast) -> list[Arm] | None:
    """Check the variants and freeze their letters and revisions; None: no A/B test.

    Called inside the start's transaction, with the broadcast locked.
    Raises CannotStart with a message for the editor when a variant does not fit.
    """
    from wagtail_journey.emails.broadcasts import CannotStart

    variants = list(
        BroadcastVariant.objects.filter(broadcast=broadcast)
        .select_related("template")
        .order_by("sort_order", "pk")
    )
    if not variants:
        return None
    if len(variants) == 1:
        raise CannotStart(gettext("An A/B test needs at least two variants: add one or remove it."))
    if len(variants) > len(string.ascii_uppercase):
        raise CannotStart(gettext("An A/B test has at most 26 variants."))
    base = broadcast.template
    arms = []
    for letter, variant in zip(string.ascii_uppercase, variants, strict=False):
        template = variant.template or base
        if not template.live or template.live_revision_id is None:
            raise CannotStart(
                gettext("Publish the email template “%(name)s” of variant %(label)s first.")
                % {"name": template.name, "label": letter}
            )
        if (template.transactional, template.purpose_id) != (base.transactional, base.purpose_id):
            raise CannotStart(
                gettext(
                    "Variant %(label)s uses a template with another consent purpose: every "
                    "variant must need the consent the broadcast's template needs."
                )
                % {"label": letter}
            )
        variant.label = letter
        variant.revision_id = template.live_revision_id
        variant.save(update_fields=["label", "revision"])
        arms.append(Arm(variant.pk, template.pk, template.live_revision_id))
    return arms


def is_ab_test(broadcast: Broadcast) -> bool:
    return broadcast.test_ends_at is not None


def pick_winner(
    broadcast: Broadcast,
    variant: BroadcastVariant | None = None,
    now: datetime | None = None,
) -> BroadcastVariant | None:
    """Pick the winner (``variant``, or the best so far) and send it to the rest.

    Returns the winner, or None when there was nothing to pick (not an A/B
    test, not started, cancelled, or a winner already picked: exactly once).
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = Broadcast.objects.select_for_update().filter(pk=broadcast.pk).first()
        if (
            locked is None
            or locked.winner_id is not None
            or locked.test_ends_at is None
            or locked.status == Broadcast.Status.CANCELLED
        ):
            return None
        if variant is not None and variant.broadcast_id != locked.pk:
            return None
        winner = variant or best_variant(locked)
        if winner is None:
            return None
        # Conditional as well as locked: SQLite has no row locks.
        if not Broadcast.objects.filter(pk=locked.pk, winner__isnull=True).update(
            winner=winner, winner_picked_at=now
        ):
            return None
        released = _release(locked, winner, now)
        if released and locked.status == Broadcast.Status.SENDING:
            from wagtail_journey.emails.broadcasts import PARALLEL_TASKS, send_now

            transaction.on_commit(
                lambda: [send_now.enqueue() for _ in range(PARALLEL_TASKS)], robust=True
            )
    broadcast.refresh_from_db()
    return winner


def best_variant(broadcast: Broadcast) -> BroadcastVariant | None:
    """The variant with the best human open (or click) rate; the first on a tie."""
    from wagtail_journey.emails import stats

    variants = list(
        BroadcastVariant.objects.filter(broadcast=broadcast).order_by("sort_order", "pk")
    )
    if not variants:
        return None
    column = "clicks" if broadcast.ab_metric == Broadcast.Metric.CLICKS else "opens"
    per = stats.grouped(
        OutboundEmail.objects.filter(broadcast=broadcast, variant__isnull=False), "variant"
    )
    empty = dict.fromkeys(stats.COLUMNS, 0)
    scored = [
        (stats.Stats(str(v), per.get(v.pk, empty)).rate(column), -i, v)
        for i, v in enumerate(variants)
    ]
    return max(scored, key=lambda s: (s[0], s[1]))[2]


def pick_due(now: datetime | None = None) -> int:
    """Sweep: pick the winners of the tests whose time is up; returns how many."""
    now = now or timezone.now()
    due = Broadcast.objects.filter(
        winner__isnull=True,
        test_ends_at__lte=now,
        status__in=[Broadcast.Status.SENDING, Broadcast.Status.PAUSED],
    ).order_by("test_ends_at", "pk")
    return sum(pick_winner(b, now=now) is not None for b in due)


def _release(broadcast: Broadcast, winner: BroadcastVariant, now: datetime) -> int:
    """The held rows get the winner's variant and revision and become due, in one UPDATE.

    With a rate the sends are spread out from now, in contact order.
    """
    from wagtail_journey.emails.broadcasts import _whole_ms

    held = OutboundEmail.objects.filter(broadcast=broadcast, status=OutboundStatus.HELD)
    template_id = winner.template_id or broadcast.template_id
    values = {
        "status": OutboundStatus.PENDING,
        "variant": winner,
        "template_id": template_id,
        "revision_id": winner.revision_id,
    }
    if not broadcast.rate_per_minute:
        return held.update(due_at=now, **values)
    table = OutboundEmail._meta.db_table
    spacing = 60.0 / broadcast.rate_per_minute
    if connection.vendor == "postgresql":
        due = "%s::timestamptz + (s.rn - 1) * %s * interval '1 second'"
    else:
        now = _whole_ms(now)
        due = "strftime('%%Y-%%m-%%d %%H:%%M:%%f', %s, '+' || ((s.rn - 1) * %s) || ' seconds')"
    sql = (
        f"UPDATE {table} SET status = %s, variant_id = %s, template_id = %s, "  # noqa: S608
        f"revision_id = %s, due_at = {due} FROM (SELECT id, ROW_NUMBER() OVER "
        f"(ORDER BY contact_id, id) AS rn FROM {table} WHERE broadcast_id = %s AND status = %s) s "
        f"WHERE {table}.id = s.id AND {table}.status = %s"
    )
    params = [
        OutboundStatus.PENDING,
        winner.pk,
        template_id,
        winner.revision_id,
        connection.ops.adapt_datetimefield_value(now),
        spacing,
        broadcast.pk,
        OutboundStatus.HELD,
        OutboundStatus.HELD,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
