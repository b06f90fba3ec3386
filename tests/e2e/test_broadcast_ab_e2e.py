"""An editor builds a broadcast with an A/B subject test in the real admin and starts it;
the outbox shows the messages of both subjects.

The live server runs in this process with anymail's test backend and django-q2 in
sync mode: starting the broadcast sends the test share at once.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.urls import reverse
from playwright.sync_api import Page, expect

from tests.emails.conftest import consented
from tests.emails.helpers import make_template, marketing_purpose
from wagtail_journey.emails import rendering
from wagtail_journey.models import (
    Broadcast,
    BroadcastVariant,
    OutboundEmail,
    Segment,
    SegmentMembership,
)

pytestmark = pytest.mark.e2e

EDITOR = ("editor", "broadcast-e2e")
SUBJECTS = ("Spring is here", '{{ first_name|default:"Friend" }}, spring is here')


@pytest.fixture
def site_data(live_server, django_db_serialized_rollback, settings):
    from django.utils import timezone

    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    rendering.clear_cache()
    User.objects.create_superuser(EDITOR[0], "editor@site.example", EDITOR[1])
    purpose = marketing_purpose()
    make_template(name="Spring newsletter")
    segment = Segment.objects.create(name="Subscribers", kind=Segment.Kind.STATIC)
    for i in range(6):
        contact = consented(purpose, f"reader{i}@example.org", f"Reader{i}")
        SegmentMembership.objects.create(
            segment=segment, contact=contact, entered_at=timezone.now()
        )
    mail.outbox = []


def sign_in(page: Page) -> None:
    page.goto("/admin/login/")
    page.get_by_role("textbox", name="Username").fill(EDITOR[0])
    page.get_by_role("textbox", name="Password").fill(EDITOR[1])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("navigation", name="Main menu")).to_be_visible()


def test_editor_creates_an_ab_subject_test_starts_it_and_sees_both_subjects(page: Page, site_data):
    sign_in(page)
    page.goto(reverse("wagtail_journey_broadcast:add"))
    page.locator("#id_name").fill("Spring broadcast")
    page.get_by_role("button", name="Choose email template").click()
    page.get_by_role("dialog").get_by_role("link", name="Spring newsletter").click()
    page.locator("#id_segment").select_option(label="Subscribers")
    page.locator("#id_ab_test_share").fill("50")
    for i, subject in enumerate(SUBJECTS):
        page.get_by_role("button", name="Add variant").click()
        page.locator(f"#id_variants-{i}-subject").fill(subject)
    page.get_by_role("button", name="Save").first.click()
    expect(page.get_by_text("'Spring broadcast' created", exact=False)).to_be_visible()
    broadcast = Broadcast.objects.get(name="Spring broadcast")
    assert BroadcastVariant.objects.filter(broadcast=broadcast).count() == 2

    page.goto(reverse("wagtail_journey_broadcast:inspect", args=[broadcast.pk]))
    page.get_by_role("button", name="Send now").click()
    expect(page.get_by_text("Sending to 6 contacts.")).to_be_visible()
    expect(page.locator("[data-wj-email-stats]")).to_contain_text("Variant B")
    expect(page.locator("[data-wj-ab-state]")).to_contain_text("the rest of the audience waits")

    # Three of six tested (one and a half each: at least one per variant), three wait.
    subjects = sorted(m.subject for m in mail.outbox)
    assert len(subjects) == 3
    assert "Spring is here" in subjects
    assert any(re.fullmatch(r"Reader\d, spring is here", s) for s in subjects)
    assert OutboundEmail.objects.filter(broadcast=broadcast, status=9).count() == 3

    page.goto(reverse("wagtail_journey_outboundemail:list"))
    listing = page.locator("main table")
    expect(listing).to_contain_text(SUBJECTS[0])
    expect(listing).to_contain_text(SUBJECTS[1])
    expect(listing).to_contain_text("Spring newsletter")
