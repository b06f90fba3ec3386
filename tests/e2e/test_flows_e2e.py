"""Flows clicked through in chromium (issue 12, real parts).

An editor creates the welcome flow from its preset in the real admin, renames it
and publishes it; a visitor submits the demo's guide form with marketing consent,
confirms it from the double opt-in email, and receives the demo's welcome email
through the published welcome flow (the live server runs django-q2 tasks
in-process, ``Q_CLUSTER["sync"]``; mail lands in ``django.core.mail.outbox``).
"""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from tests.e2e.test_landing_forms import consent_box, guide_form, sign_in, words
from wagtail_journey.models import ConsentPurpose, Enrollment, Flow, OutboundEmail
from wagtail_journey.pages import LandingPage

pytestmark = pytest.mark.e2e


@pytest.fixture
def _mail(settings, live_server):
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    settings.WAGTAILADMIN_BASE_URL = live_server.url
    settings.WAGTAIL_AUTOSAVE_INTERVAL = 0
    mail.outbox = []


def test_editor_creates_the_welcome_flow_from_its_preset_and_publishes_it(
    page: Page, demo_site, _mail
):
    sign_in(page)
    page.goto("/admin/journey/flows/")
    page.get_by_role("link", name="Start from a preset").click()
    page.get_by_role("button", name="Create “Welcome”").click()
    expect(page.get_by_text("were created as drafts")).to_be_visible()
    page.locator("#id_name").fill("Welcome (guide)")
    page.get_by_role("button", name="More actions").click()
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("Welcome (guide)").first).to_be_visible()
    flow = Flow.objects.get(name="Welcome (guide)")
    assert flow.live and not flow.has_unpublished_changes
    page.goto(f"/admin/journey/flows/overview/{flow.pk}/")
    expect(page.locator("[data-wj-flow-state]")).to_contain_text("Live.")
    expect(page.locator("[data-wj-flow-diagram]")).to_contain_text("Send an email: Welcome 1 (en)")


def test_a_visitor_who_confirms_marketing_consent_gets_the_welcome_email(
    page: Page, demo_site, _mail, live_server
):
    guide = LandingPage.objects.get(slug="guide")
    form = guide_form(guide)
    page.goto(guide.url)
    page.get_by_role("textbox", name="Email").fill("zoe@example.org")
    consent_box(page, ConsentPurpose.objects.get(key="privacy")).check()
    consent_box(page, ConsentPurpose.objects.get(key="marketing")).check()
    page.get_by_role("button", name=form["submit_label"]).click()
    expect(page.get_by_role("status")).to_have_text(words(form["success_message"].source))
    assert not Enrollment.objects.filter(contact__email="zoe@example.org").exists()

    (confirmation,) = mail.outbox
    link = re.search(r"https?://\S+/journey/confirm/\S+/", confirmation.body).group(0)
    page.goto(link)
    page.get_by_role("button", name="Yes, confirm").click()
    expect(page.get_by_role("status")).to_contain_text("is confirmed")

    welcome = [m for m in mail.outbox if m.to == ["zoe@example.org"] and m is not confirmation]
    assert [m.subject for m in welcome] == ["Welcome, friend"]
    enrollment = Enrollment.objects.get(contact__email="zoe@example.org")
    assert enrollment.flow.name == "Welcome" and enrollment.waiting
    row = OutboundEmail.objects.get(contact__email="zoe@example.org", template__name="Welcome")
    assert row.idempotency_key.startswith(f"flow:{enrollment.pk}:")
    # The message carries its one-click unsubscribe, as every marketing email.
    assert "List-Unsubscribe-Post" in welcome[0].extra_headers
