"""A/B tests of broadcasts: a random test share, variants, one winner, the rest."""

from __future__ import annotations

import base64
import json
from collections import Counter
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from tests.emails.conftest import consented
from tests.emails.helpers import make_template, marketing_purpose
from tests.segment_helpers import group, make_segment, r
from wagtail_journey.emails import ab_tests, broadcasts, sending
from wagtail_journey.models import Broadcast, BroadcastVariant, Contact, OutboundEmail
from wagtail_journey.models.outbound import OutboundStatus

pytestmark = pytest.mark.django_db

SECRET = "esp-user:long-enough-webhook-secret"
AUTH = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(SECRET.encode()).decode()}
PEOPLE = 20


@pytest.fixture(autouse=True)
def _secret(settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}


@pytest.fixture
def segment():
    purpose = marketing_purpose()
    for i in range(PEOPLE):
        consented(purpose, f"p{i}@example.com", f"P{i}")
    return make_segment("Subscribers", group(r("lifecycle_stage", stages=["subscriber"])))


def ab_broadcast(segment, *subjects, share=50, **kw) -> Broadcast:
    broadcast = Broadcast.objects.create(
        name="Spring", template=make_template(), segment=segment, ab_test_share=share, **kw
    )
    for i, subject in enumerate(subjects):
        BroadcastVariant.objects.create(broadcast=broadcast, subject=subject, sort_order=i)
    return broadcast


def subjects_sent() -> Counter:
    return Counter(m.subject for m in mail.outbox)


def open_by_a_person(client, row: OutboundEmail, event_id: str, **extra) -> None:
    """A SendGrid "open" webhook an hour after sending, from a mail client."""
    event = {
        "email": row.contact.email,
        "timestamp": int((row.sent_at + timedelta(hours=1)).timestamp()),
        "event": "open",
        "sg_event_id": event_id,
        "useragent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Thunderbird/128.0",
        "outbound_email": str(row.pk),
        **extra,
    }
    response = client.post(
        "/anymail/sendgrid/tracking/",
        data=json.dumps([event]),
        content_type="application/json",
        **AUTH,
    )
    assert response.status_code == 200


def test_the_test_share_gets_the_variants_and_the_rest_gets_the_winner_by_human_opens(
    client, segment
):
    broadcast = ab_broadcast(
        segment, "Spring sale, {{ first_name }}", "Last days of spring", ab_wait_minutes=60
    )
    now = timezone.now()
    assert broadcasts.start(broadcast, now=now) == PEOPLE
    broadcast.refresh_from_db()
    assert broadcast.test_ends_at == now + timedelta(minutes=60)
    a, b = BroadcastVariant.objects.filter(broadcast=broadcast).order_by("sort_order")
    assert (a.label, b.label) == ("A", "B") and a.revision_id == broadcast.template.live_revision_id

    rows = OutboundEmail.objects.filter(broadcast=broadcast)
    assert rows.filter(status=OutboundStatus.HELD, variant__isnull=True).count() == PEOPLE // 2
    assert Counter(rows.exclude(status=OutboundStatus.HELD).values_list("variant", flat=True)) == {
        a.pk: PEOPLE // 4,
        b.pk: PEOPLE // 4,
    }
    sending.send_due()
    sent = subjects_sent()
    assert sent["Last days of spring"] == PEOPLE // 4
    assert sum(n for s, n in sent.items() if s.startswith("Spring sale, P")) == PEOPLE // 4
    assert rows.filter(status=OutboundStatus.HELD).count() == PEOPLE // 2  # the rest waits

    # B: two people open. A: three opens flagged by the provider as a machine's
    # (Apple Mail Privacy Protection), which must not make A win.
    b_rows = list(rows.filter(variant=b, status=OutboundStatus.SENT).select_related("contact"))
    a_rows = list(rows.filter(variant=a, status=OutboundStatus.SENT).select_related("contact"))
    for i, row in enumerate(b_rows[:2]):
        open_by_a_person(client, row, f"b-open-{i}")
        open_by_a_person(client, row, f"b-open-again-{i}")  # a second open counts once
    for i, row in enumerate(a_rows[:3]):
        open_by_a_person(client, row, f"a-proxy-{i}", sg_machine_open=True)

    assert ab_tests.pick_due(now=now + timedelta(minutes=59)) == 0  # not yet
    assert ab_tests.pick_due(now=now + timedelta(minutes=61)) == 1
    broadcast.refresh_from_db()
    assert broadcast.winner == b and broadcast.winner_picked_at is not None
    assert ab_tests.pick_due(now=now + timedelta(minutes=62)) == 0  # exactly once
    assert ab_tests.pick_winner(broadcast, a) is None

    mail.outbox.clear()
    sending.send_batch(now=now + timedelta(minutes=62))  # the rest was due at the pick
    assert subjects_sent() == {"Last days of spring": PEOPLE // 2}
    # Every contact received exactly one message, and each row says which variant.
    all_to = [row.contact.email for row in rows.select_related("contact")]
    assert sorted(all_to) == sorted(f"p{i}@example.com" for i in range(PEOPLE))
    assert not rows.filter(variant__isnull=True).exists()
    assert rows.filter(variant=b).count() == PEOPLE // 4 + PEOPLE // 2
    assert rows.filter(status=OutboundStatus.SENT).count() == PEOPLE


def test_the_split_is_random_and_at_least_one_contact_per_variant(segment):
    first = ab_broadcast(segment, "One", "Two", "Three", share=1)
    broadcasts.start(first)
    tested = OutboundEmail.objects.filter(broadcast=first).exclude(status=OutboundStatus.HELD)
    assert tested.count() == 3  # 1 % of 20 rounds to 0: one per variant still
    assert tested.values("variant").distinct().count() == 3
    picks = set()
    for n in range(6):
        other = ab_broadcast(segment, "One", "Two", share=25)
        other.name = f"Again {n}"
        broadcasts.start(other)
        picks.add(
            frozenset(
                OutboundEmail.objects.filter(broadcast=other)
                .exclude(status=OutboundStatus.HELD)
                .values_list("contact_id", flat=True)
            )
        )
    assert len(picks) > 1  # not the same five contacts every time


def test_clicks_decide_when_asked_and_a_tie_goes_to_the_first_variant(segment):
    from wagtail_journey.emails.stats import note_engagement

    broadcast = ab_broadcast(segment, "One", "Two", ab_metric="clicks")
    broadcasts.start(broadcast)
    sending.send_due()
    a, b = BroadcastVariant.objects.filter(broadcast=broadcast).order_by("sort_order")
    assert ab_tests.best_variant(broadcast) == a  # nothing yet: the first
    row = OutboundEmail.objects.filter(variant=b).first()
    note_engagement(row.pk, "email_opened", False, timezone.now())
    assert ab_tests.best_variant(broadcast) == a  # opens do not count here
    note_engagement(row.pk, "email_clicked", True, timezone.now())
    assert ab_tests.best_variant(broadcast) == a  # a scanner's click does not either
    note_engagement(row.pk, "email_clicked", False, timezone.now())
    assert ab_tests.best_variant(broadcast) == b


def test_a_variant_with_another_template_sends_that_template(segment):
    broadcast = ab_broadcast(segment, "", share=100)
    other = make_template(name="Other", subject="Another look, {{ first_name }}")
    BroadcastVariant.objects.create(broadcast=broadcast, template=other, sort_order=1)
    broadcasts.start(broadcast)
    sending.send_due()
    sent = subjects_sent()
    assert sum(n for s, n in sent.items() if s.startswith("Welcome, P")) == PEOPLE // 2
    assert sum(n for s, n in sent.items() if s.startswith("Another look, P")) == PEOPLE // 2
    b_rows = OutboundEmail.objects.filter(variant__sort_order=1)
    assert set(b_rows.values_list("template", "revision")) == {(other.pk, other.live_revision_id)}


@pytest.mark.parametrize("problem", ["one_variant", "other_purpose", "unpublished"])
def test_variants_that_do_not_fit_stop_the_start_with_a_clear_error(segment, problem):
    from wagtail_journey.models import ConsentPurpose

    broadcast = ab_broadcast(segment, "Only one")
    if problem == "other_purpose":
        purpose = ConsentPurpose.objects.create(
            key="partners", name="Partners", text="<p>x</p>", is_marketing=True
        )
        other = make_template(name="Partners", purpose=purpose)
        BroadcastVariant.objects.create(broadcast=broadcast, template=other, sort_order=1)
        expected = "another consent purpose"
    elif problem == "unpublished":
        other = make_template(name="Draft", publish=False)
        BroadcastVariant.objects.create(broadcast=broadcast, template=other, sort_order=1)
        expected = "Publish the email template “Draft” of variant B first."
    else:
        expected = "at least two variants"
    with pytest.raises(broadcasts.CannotStart, match=expected):
        broadcasts.start(broadcast)
    broadcast.refresh_from_db()
    assert broadcast.started_at is None and not OutboundEmail.objects.exists()


def test_cancelling_skips_the_held_rest(segment):
    broadcast = ab_broadcast(segment, "One", "Two")
    broadcasts.start(broadcast)
    assert broadcasts.cancel(broadcast) == PEOPLE
    assert ab_tests.pick_winner(broadcast) is None
    sending.send_due()
    assert mail.outbox == []


def test_a_rate_spreads_the_rest_after_the_winner(segment):
    broadcast = ab_broadcast(segment, "One", "Two", rate_per_minute=60)
    now = timezone.now()
    broadcasts.start(broadcast, now=now)
    later = now + timedelta(hours=5)
    ab_tests.pick_winner(broadcast, now=later)
    dues = sorted(
        OutboundEmail.objects.filter(broadcast=broadcast, status=OutboundStatus.PENDING)
        .filter(due_at__gte=later - timedelta(seconds=1))
        .values_list("due_at", flat=True)
    )
    assert [round((d - later).total_seconds()) for d in dues] == list(range(PEOPLE // 2))


@pytest.fixture
def admin(client, admin_user):
    client.force_login(admin_user)
    return client


def test_editor_sees_results_per_variant_and_picks_the_winner_now(admin, segment):
    broadcast = ab_broadcast(segment, "Spring sale", "Last days")
    broadcasts.start(broadcast)
    sending.send_due()
    inspect = reverse("wagtail_journey_broadcast:inspect", args=[broadcast.pk])
    page = admin.get(inspect).content.decode()
    assert "data-wj-email-stats" in page and "Variant A" in page and "Variant B" in page
    assert "Pick the winner now" in page and "the rest of the audience waits" in page
    pick = reverse("wagtail_journey_broadcast:act", args=[broadcast.pk, "pick"])
    b = BroadcastVariant.objects.get(broadcast=broadcast, label="B")
    assert admin.post(pick, {"variant": "not-a-number"}, follow=True).status_code == 200
    assert not Broadcast.objects.get(pk=broadcast.pk).winner_id
    page = admin.post(pick, {"variant": str(b.pk)}, follow=True).content.decode()
    assert "Variant B won" in page and "data-wj-winner" in page
    again = admin.post(pick, follow=True).content.decode()
    assert "already been picked" in again
    outbox = admin.get(reverse("wagtail_journey_outboundemail:list")).content.decode()
    assert "Spring sale" in outbox and "Last days" in outbox


def test_editor_builds_variants_in_the_broadcast_form(admin, segment):
    from wagtail.test.utils.form_data import inline_formset, nested_form_data

    template = make_template()
    data = nested_form_data(
        {
            "name": "Spring",
            "template": template.pk,
            "segment": segment.pk,
            "rate_per_minute": 0,
            "send_at": "",
            "ab_test_share": 20,
            "ab_wait_minutes": 120,
            "ab_metric": "opens",
            "variants": inline_formset(
                [{"subject": "Spring is here"}, {"subject": "{{ first_name }}, spring is here"}]
            ),
        }
    )
    response = admin.post(reverse("wagtail_journey_broadcast:add"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    broadcast = Broadcast.objects.get(name="Spring")
    variants = BroadcastVariant.objects.filter(broadcast=broadcast).order_by("sort_order")
    assert list(variants.values_list("subject", flat=True)) == [
        "Spring is here",
        "{{ first_name }}, spring is here",
    ]
    bad = dict(data, name="Bad", **{"variants-0-subject": "{{ password }}"})
    response = admin.post(reverse("wagtail_journey_broadcast:add"), bad)
    assert response.status_code == 200 and not Broadcast.objects.filter(name="Bad").exists()


def test_only_contacts_present_at_the_start_are_in_the_test_or_the_rest(segment):
    broadcast = ab_broadcast(segment, "One", "Two")
    broadcasts.start(broadcast)
    Contact.objects.create(email="late@example.com")
    ab_tests.pick_winner(broadcast)
    assert not OutboundEmail.objects.filter(contact__email="late@example.com").exists()


def test_queries_per_batch_of_an_ab_broadcast_do_not_grow_with_the_batch(
    segment, settings, django_assert_max_num_queries
):
    broadcast = ab_broadcast(segment, "One, {{ first_name }}", "Two", share=100)
    broadcasts.start(broadcast)
    settings.WAGTAIL_JOURNEY = {**settings.WAGTAIL_JOURNEY, "EMAIL_BATCH_SIZE": 4}
    sending.send_batch()  # the first batch compiles the revision once (cached afterwards)
    with django_assert_max_num_queries(12) as small:
        assert sending.send_batch()["sent"] == 4
    settings.WAGTAIL_JOURNEY = {**settings.WAGTAIL_JOURNEY, "EMAIL_BATCH_SIZE": 12}
    with django_assert_max_num_queries(12) as large:
        assert sending.send_batch()["sent"] == 12
    assert len(large.captured_queries) == len(small.captured_queries)
