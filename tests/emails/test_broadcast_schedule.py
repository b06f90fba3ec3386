"""Broadcasts at a chosen time, and templates that cannot be deleted while broadcasts use them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from tests.emails.conftest import consented
from tests.emails.helpers import make_template, marketing_purpose
from tests.segment_helpers import group, make_segment, r
from wagtail_journey.emails import broadcasts, sending
from wagtail_journey.models import Broadcast, BroadcastVariant, EmailTemplate, OutboundEmail

pytestmark = pytest.mark.django_db


@pytest.fixture
def segment():
    purpose = marketing_purpose()
    for i in range(3):
        consented(purpose, f"s{i}@example.com", f"S{i}")
    return make_segment("Subscribers", group(r("lifecycle_stage", stages=["subscriber"])))


@pytest.fixture
def admin(client, admin_user):
    client.force_login(admin_user)
    return client


def scheduled(segment, when, **kw) -> Broadcast:
    broadcast = Broadcast.objects.create(
        name="Monday news", template=make_template(), segment=segment, send_at=when, **kw
    )
    assert broadcasts.schedule(broadcast)
    broadcast.refresh_from_db()
    return broadcast


def test_a_scheduled_broadcast_starts_at_its_time_from_the_sweep(segment):
    when = timezone.now() + timedelta(hours=2)
    broadcast = scheduled(segment, when)
    assert broadcast.status == "scheduled"
    assert broadcasts.start_due(now=when - timedelta(minutes=1)) == 0
    assert not OutboundEmail.objects.exists()
    assert broadcasts.start_due(now=when + timedelta(seconds=30)) == 1
    assert broadcasts.start_due(now=when + timedelta(minutes=1)) == 0  # once
    sending.send_batch(now=when + timedelta(minutes=1))
    assert len(mail.outbox) == 3
    broadcast.refresh_from_db()
    assert (broadcast.status, broadcast.audience) == ("sending", 3)


def test_scheduling_needs_a_time_and_a_published_template(segment):
    draft = Broadcast.objects.create(name="No time", template=make_template(), segment=segment)
    with pytest.raises(broadcasts.CannotStart, match="Set the start time first"):
        broadcasts.schedule(draft)
    unpublished = Broadcast.objects.create(
        name="Draft template",
        template=make_template(name="Unpublished", publish=False),
        segment=segment,
        send_at=timezone.now(),
    )
    with pytest.raises(broadcasts.NotPublished):
        broadcasts.schedule(unpublished)
    assert set(Broadcast.objects.values_list("status", flat=True)) == {"draft"}


def test_a_template_unpublished_before_the_time_sends_nothing_and_says_why(segment):
    from wagtail.models import ModelLogEntry

    when = timezone.now() + timedelta(minutes=5)
    broadcast = scheduled(segment, when)
    broadcast.template.unpublish()
    assert broadcasts.start_due(now=when) == 0
    broadcast.refresh_from_db()
    assert broadcast.status == "draft" and broadcast.started_at is None
    assert not OutboundEmail.objects.exists()
    entry = ModelLogEntry.objects.get(action="wagtail_journey.broadcast.not_started")
    assert entry.object_id == str(broadcast.pk) and "not published" in entry.data["reason"]


def test_the_editor_schedules_and_unschedules_in_the_admin(admin, segment):
    broadcast = Broadcast.objects.create(
        name="Later",
        template=make_template(),
        segment=segment,
        send_at=timezone.now() + timedelta(days=1),
    )
    inspect = reverse("wagtail_journey_broadcast:inspect", args=[broadcast.pk])
    act = reverse("wagtail_journey_broadcast:act", args=[broadcast.pk, "schedule"])
    page = admin.post(act, follow=True).content.decode()
    assert "Scheduled: it starts at" in page and "Unschedule" in page
    assert "data-wj-broadcast-scheduled" in admin.get(inspect).content.decode()
    again = admin.post(act, follow=True).content.decode()
    assert "Only a draft can be scheduled." in again
    admin.post(reverse("wagtail_journey_broadcast:act", args=[broadcast.pk, "unschedule"]))
    broadcast.refresh_from_db()
    assert broadcast.status == "draft"
    none = Broadcast.objects.create(name="No time", template=broadcast.template, segment=segment)
    act = reverse("wagtail_journey_broadcast:act", args=[none.pk, "schedule"])
    assert "Set the start time first." in admin.post(act, follow=True).content.decode()


@pytest.mark.parametrize("which", ["template", "variant_template"])
def test_deleting_a_template_a_scheduled_broadcast_uses_is_refused_and_nothing_is_sent(
    admin, segment, which
):
    when = timezone.now() + timedelta(minutes=5)
    broadcast = scheduled(segment, when, ab_test_share=100)
    other = make_template(name="Variant B template")
    BroadcastVariant.objects.create(broadcast=broadcast, subject="A", sort_order=0)
    BroadcastVariant.objects.create(broadcast=broadcast, template=other, sort_order=1)
    target = broadcast.template if which == "template" else other
    url = reverse("wagtailsnippets_wagtail_journey_emailtemplate:delete", args=[target.pk])
    for response in (admin.get(url, follow=True), admin.post(url, follow=True)):
        assert response.status_code == 200
        assert "used by the broadcasts “Monday news”" in response.content.decode()
    assert EmailTemplate.objects.filter(pk=target.pk).exists()
    assert not OutboundEmail.objects.exists() and mail.outbox == []
    # The broadcast still starts at its time, whole.
    assert broadcasts.start_due(now=when) == 1
    sending.send_batch(now=when)
    assert len(mail.outbox) == 3
