"""Broadcasts: a frozen audience, once, throttled, paused, resumed and cancelled."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from tests.emails.conftest import consented
from tests.emails.helpers import make_template, marketing_purpose
from tests.segment_helpers import group, make_segment, r
from wagtail_journey.emails import broadcasts, sending
from wagtail_journey.models import Broadcast, Contact, OutboundEmail
from wagtail_journey.models.outbound import OutboundReason, OutboundStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def audience():
    purpose = marketing_purpose()
    people = [consented(purpose, f"p{i}@example.com", f"P{i}") for i in range(5)]
    Contact.objects.create(email="noconsent@example.com")  # in the segment, never consented
    segment = make_segment("Subscribers", group(r("lifecycle_stage", stages=["subscriber"])))
    return people, segment


def make_broadcast(segment, **kw) -> Broadcast:
    return Broadcast.objects.create(name="Spring", template=make_template(), segment=segment, **kw)


def test_start_freezes_the_audience_once_and_the_gate_still_decides(audience):
    people, segment = audience
    broadcast = make_broadcast(segment)
    assert broadcasts.start(broadcast) == 6
    with pytest.raises(broadcasts.CannotStart):
        broadcasts.start(broadcast)
    Contact.objects.create(email="late@example.com")  # joins the segment after the start
    sending.send_due()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.email for p in people)
    assert broadcasts.progress(broadcast)["Sent"] == 5
    skipped = OutboundEmail.objects.get(contact__email="noconsent@example.com")
    assert skipped.reason == OutboundReason.NO_CONSENT
    assert not OutboundEmail.objects.filter(contact__email="late@example.com").exists()
    row = OutboundEmail.objects.get(contact=people[0])
    assert row.context["first_name"] == "P0" and row.revision_id
    assert row.idempotency_key == f"b:{broadcast.pk}:{people[0].pk}"
    broadcast.refresh_from_db()
    assert (broadcast.status, broadcast.audience) == ("sending", 6)


def test_a_rate_spreads_the_sends(audience):
    _, segment = audience
    broadcast = make_broadcast(segment, rate_per_minute=2)  # one every 30 s
    now = timezone.now()
    broadcasts.start(broadcast, now=now)
    dues = sorted(OutboundEmail.objects.values_list("due_at", flat=True))
    assert [round((d - now).total_seconds()) for d in dues] == [0, 30, 60, 90, 120, 150]
    sending.send_due()
    assert len(mail.outbox) == 1  # only the first is due
    sending.send_batch(now=now + timedelta(minutes=5))
    assert len(mail.outbox) == 5


def test_pause_holds_resume_releases_cancel_skips(audience):
    _, segment = audience
    broadcast = make_broadcast(segment)
    broadcasts.start(broadcast)
    assert broadcasts.pause(broadcast)
    sending.send_due()
    assert mail.outbox == []
    assert broadcasts.resume(broadcast)
    sending.send_batch()  # batch of EMAIL_BATCH_SIZE: all six claimed at once here
    assert len(mail.outbox) == 5

    second = make_broadcast(segment)
    second.template = make_template(name="Second")
    second.save()
    broadcasts.start(second)
    assert broadcasts.cancel(second) == 6
    sending.send_due()
    assert len(mail.outbox) == 5
    assert set(OutboundEmail.objects.filter(broadcast=second).values_list("reason", flat=True)) == {
        OutboundReason.CANCELLED
    }
    assert broadcasts.progress(second)["Skipped"] == 6


def test_an_unpublished_template_cannot_start(audience):
    _, segment = audience
    broadcast = Broadcast.objects.create(
        name="Draft", template=make_template(publish=False), segment=segment
    )
    with pytest.raises(broadcasts.NotPublished):
        broadcasts.start(broadcast)
    broadcast.refresh_from_db()
    assert broadcast.started_at is None and not OutboundEmail.objects.exists()


def test_the_audience_is_inserted_in_a_constant_number_of_queries(
    audience, django_assert_max_num_queries
):
    _, segment = audience
    for i in range(40):
        Contact.objects.create(email=f"more{i}@example.com")
    broadcast = make_broadcast(segment)
    with django_assert_max_num_queries(9):  # whatever the audience (one reads the A/B variants)
        assert broadcasts.start(broadcast) == 46
    assert OutboundEmail.objects.filter(status=OutboundStatus.PENDING).count() == 46


@pytest.fixture
def admin(client, admin_user):
    client.force_login(admin_user)
    return client


def test_editor_starts_pauses_and_watches_progress_in_the_admin(admin, audience):
    from django.urls import reverse

    _, segment = audience
    broadcast = make_broadcast(segment)
    inspect = reverse("wagtail_journey_broadcast:inspect", args=[broadcast.pk])
    page = admin.get(inspect).content.decode()
    assert "Send now" in page and "Pause" not in page
    act = reverse("wagtail_journey_broadcast:act", args=[broadcast.pk, "start"])
    assert admin.get(act).status_code == 405  # only a POST acts
    response = admin.post(act, follow=True)
    assert "Sending to 6 contacts." in response.content.decode()
    page = admin.post(
        reverse("wagtail_journey_broadcast:act", args=[broadcast.pk, "pause"]), follow=True
    ).content.decode()
    assert "Resume" in page and "data-wj-broadcast-progress" in page
    broadcast.refresh_from_db()
    assert broadcast.status == "paused"
    again = admin.post(act, follow=True).content.decode()
    assert "already started" in again
    assert OutboundEmail.objects.filter(broadcast=broadcast).count() == 6
    admin.post(reverse("wagtail_journey_broadcast:act", args=[broadcast.pk, "resume"]))
    sending.send_due()
    page = admin.get(inspect).content.decode()
    assert "data-wj-broadcast-finished" in page and "Pause" not in page


def test_broadcast_actions_need_the_change_permission(client, django_user_model, audience):
    from django.contrib.auth.models import Group, Permission
    from django.urls import reverse

    _, segment = audience
    broadcast = make_broadcast(segment)
    viewer = django_user_model.objects.create_user("viewer", password="x")
    group = Group.objects.create(name="Broadcast viewers")
    group.permissions.add(
        Permission.objects.get(codename="access_admin"),
        Permission.objects.get(codename="view_broadcast"),
    )
    viewer.groups.add(group)
    client.force_login(viewer)
    assert (
        client.get(reverse("wagtail_journey_broadcast:inspect", args=[broadcast.pk])).status_code
        == 200
    )
    act = reverse("wagtail_journey_broadcast:act", args=[broadcast.pk, "start"])
    assert client.post(act).status_code in (302, 403)
    broadcast.refresh_from_db()
    assert broadcast.started_at is None


def test_deleting_a_template_used_by_a_broadcast_is_refused_clearly(admin, audience):
    from django.urls import reverse

    from wagtail_journey.models import EmailTemplate

    _, segment = audience
    broadcast = make_broadcast(segment)
    broadcasts.start(broadcast)
    url = reverse(
        "wagtailsnippets_wagtail_journey_emailtemplate:delete", args=[broadcast.template.pk]
    )
    for response in (admin.get(url, follow=True), admin.post(url, follow=True)):
        assert response.status_code == 200
        assert "used by the broadcasts “Spring”" in response.content.decode()
    assert EmailTemplate.objects.filter(pk=broadcast.template.pk).exists()
    assert OutboundEmail.objects.filter(broadcast=broadcast, status=0).count() == 6
