"""The demo shows scoring and segments on its contacts, and loads twice safely."""

import pytest
from django.core.management import call_command

from wagtail_journey.models import Contact, ScoreChange, ScoringRule, Segment

pytestmark = pytest.mark.django_db


def test_load_demo_scores_and_segments_contacts_idempotently():
    call_command("load_demo")
    state = (
        sorted(Contact.objects.values_list("email", "score", "lifecycle_stage")),
        ScoreChange.objects.count(),
        sorted(Segment.objects.values_list("name", "member_count")),
    )
    call_command("load_demo")
    assert state == (
        sorted(Contact.objects.values_list("email", "score", "lifecycle_stage")),
        ScoreChange.objects.count(),
        sorted(Segment.objects.values_list("name", "member_count")),
    )
    assert ScoringRule.objects.count() == 7
    assert Contact.objects.get(email="maria@example.net").score == 26
    assert Segment.objects.get(name="Engaged leads").member_count == 1
