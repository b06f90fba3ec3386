"""Restriction and objection: stored once, recorded, honoured by every reaction, shown."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from wagtail.models import ModelLogEntry

from tests.segment_helpers import group, make_segment, r
from wagtail_journey.events import reaction, record
from wagtail_journey.models import (
    Contact,
    ScoreChange,
    ScoringRule,
    Segment,
    SegmentMembership,
    Touchpoint,
)
from wagtail_journey.privacy.restriction import set_objection, set_restricted

pytestmark = pytest.mark.django_db


@pytest.fixture
def contact(db):
    return Contact.objects.create(email="rita@example.org", first_name="Rita")


@pytest.fixture
def rule(db):
    return ScoringRule.objects.create(name="Views", kind="page_view", points=5)


def log_entries(contact):
    return ModelLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Contact), object_id=str(contact.pk)
    )


def test_restriction_is_stored_once_recorded_and_logged_without_personal_data(contact):
    set_restricted(contact, True, by="preference_centre")
    set_restricted(contact, True, by="preference_centre")  # again: nothing new
    contact.refresh_from_db()
    assert contact.restricted_at is not None
    assert Touchpoint.objects.filter(contact=contact, kind="subject_restricted").count() == 1
    entry = log_entries(contact).get(action="wagtail_journey.restriction")
    assert entry.label == f"Contact #{contact.pk}"
    assert "rita" not in entry.label.lower() and "rita" not in str(entry.data).lower()
    set_restricted(contact, False, by="admin")
    contact.refresh_from_db()
    assert contact.restricted_at is None
    assert Touchpoint.objects.filter(contact=contact, kind="subject_unrestricted").count() == 1


@pytest.mark.parametrize("how", ["restricted", "profiling"])
def test_restricted_or_profiling_objecting_contacts_are_not_scored(contact, rule, how):
    if how == "restricted":
        set_restricted(contact, True, by="test")
    else:
        set_objection(contact, profiling=True, by="test")
    record("page_view", contact=contact)
    contact.refresh_from_db()
    assert contact.score == 0
    assert not ScoreChange.objects.exists()


def test_objecting_to_marketing_alone_keeps_scoring(contact, rule):
    set_objection(contact, marketing=True, by="test")
    record("page_view", contact=contact)
    contact.refresh_from_db()
    assert contact.score == 5
    assert contact.objects_to_marketing_at is not None


def test_every_reaction_honours_it_including_ones_added_later(contact, clean_reactions):
    seen = []

    @reaction("test_flow", order=60)
    def flows_like(touchpoint):
        seen.append(touchpoint.pk)

    record("page_view", contact=contact)
    assert len(seen) == 1
    set_restricted(contact, True, by="test")
    record("page_view", contact=contact)
    # A contact loaded before the restriction, as a request would hold it.
    stale = Contact.objects.get(pk=contact.pk)
    record("page_view", contact=stale)
    assert len(seen) == 1


def test_buffered_tracking_honours_it_too(contact, rule):
    from django.db import transaction

    from wagtail_journey.events import record_batch
    from wagtail_journey.models import Visitor

    visitor = Visitor.objects.create(contact=contact)
    set_restricted(contact, True, by="test")
    with transaction.atomic():
        record_batch([{"k": "page_view", "t": 1_700_000_000, "v": visitor.pk}])
    contact.refresh_from_db()
    assert contact.score == 0


def test_objecting_to_profiling_leaves_rule_segments_now_and_at_every_rebuild(contact):
    from wagtail_journey.segments import add_static_members, rebuild_segment

    everyone = make_segment("Everyone", group(r("score", min=0, max=None)))
    hand_picked = Segment.objects.create(name="Picked", kind=Segment.Kind.STATIC)
    add_static_members(hand_picked, [contact.pk])
    rebuild_segment(everyone)
    assert SegmentMembership.objects.filter(segment=everyone, contact=contact).exists()

    set_objection(contact, profiling=True, by="test")
    assert not SegmentMembership.objects.filter(segment=everyone, contact=contact).exists()
    assert SegmentMembership.objects.filter(segment=hand_picked, contact=contact).exists()
    rebuild_segment(everyone)
    assert not SegmentMembership.objects.filter(segment=everyone, contact=contact).exists()
    everyone.refresh_from_db()
    assert everyone.member_count == 0


def test_the_contact_page_shows_the_state_and_toggles_it(admin_client, contact):
    url = f"/admin/journey/contacts/{contact.pk}/privacy/restrict/"
    page = admin_client.get(f"/admin/wagtail_journey/contact/inspect/{contact.pk}/")
    html = page.content.decode()
    assert "data-wj-privacy-panel" in html and "Restrict processing" in html
    response = admin_client.post(url, {"what": "restriction", "on": "1"})
    assert response.status_code == 302
    html = admin_client.get(response["Location"]).content.decode()
    assert "Lift the restriction" in html
    admin_client.post(url, {"what": "marketing", "on": "1"})
    contact.refresh_from_db()
    assert contact.restricted_at and contact.objects_to_marketing_at
    # Staff views are logged, titled by the opaque id.
    viewed = log_entries(contact).filter(action="wagtail_journey.view_contact")
    assert viewed.exists() and viewed.first().label == f"Contact #{contact.pk}"


def test_decay_leaves_restricted_scores_as_they_were(settings, contact):
    from datetime import timedelta

    from django.utils import timezone

    from wagtail_journey.decay import apply_decay

    other = Contact.objects.create(email="other@example.org")
    long_ago = timezone.now() - timedelta(days=400)
    Contact.objects.update(score=10, created_at=long_ago, last_activity_at=long_ago)
    set_restricted(contact, True, by="test")
    assert apply_decay(cfg={"mode": "halve", "days": 90}) == 1
    contact.refresh_from_db()
    other.refresh_from_db()
    assert (contact.score, other.score) == (10, 5)
