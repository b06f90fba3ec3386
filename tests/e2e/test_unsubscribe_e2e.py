"""A visitor unsubscribes from a received newsletter in chromium (issue 11, real parts).

The demo's newsletter is sent through the pipeline (anymail's test backend), the visitor
opens the unsubscribe link of the message they received, sees a page with a button (the
GET changes nothing) and clicks it: their marketing consent is withdrawn and the next
newsletter is skipped with that reason.
"""

from __future__ import annotations

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from demo.outbox_demo import queue_demo_newsletter
from wagtail_journey.emails import sending
from wagtail_journey.models import Contact, EmailTemplate, OutboundEmail
from wagtail_journey.models.outbound import OutboundReason, OutboundStatus
from wagtail_journey.privacy.consent import has_consent

pytestmark = pytest.mark.e2e


@pytest.fixture
def _mail_settings(settings, live_server):
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    settings.WAGTAILADMIN_BASE_URL = live_server.url  # links point at the live server
    mail.outbox = []


@pytest.fixture
def received(_mail_settings, demo_site):
    # load_demo gave Ana a confirmed marketing consent; this month's newsletter goes to her.
    ana = Contact.objects.get(email="ana.silva@example.com")
    template = EmailTemplate.objects.get(name="Monthly newsletter")
    sending.queue_template(template, ana, idempotency_key="e2e-newsletter")
    sending.send_due()
    [message] = [m for m in mail.outbox if m.to == [ana.email]]
    return ana, message


def test_a_visitor_unsubscribes_in_one_click_from_the_received_message(page: Page, received):
    ana, message = received
    assert has_consent(ana, "marketing")
    url = message.extra_headers["List-Unsubscribe"].strip("<>")
    assert url in message.alternatives[0][0]  # the visible link is the same
    page.goto(url)
    expect(page.get_by_role("heading", name="Unsubscribe")).to_be_visible()
    expect(page.get_by_text("Stop receiving “Marketing emails” emails?")).to_be_visible()
    assert has_consent(ana, "marketing")  # opening the link changed nothing
    sent = OutboundEmail.objects.filter(contact=ana, status=OutboundStatus.SENT)
    sent_before = sent.count()  # the demo's own mail to her (newsletter, flows, A/B test)
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("status")).to_have_text(
        "You are unsubscribed. You will receive no more of these emails."
    )
    assert not has_consent(ana, "marketing")

    # The next newsletter is not sent to her, and the outbox says why.
    template = EmailTemplate.objects.get(name="Monthly newsletter")
    row, _ = sending.queue_template(template, ana, idempotency_key="next-month")
    sending.send_due()
    row.refresh_from_db()
    assert (row.status, row.reason) == (OutboundStatus.SKIPPED, OutboundReason.NO_CONSENT)
    assert sent.count() == sent_before  # nothing more went to her
    assert queue_demo_newsletter() == 0  # idempotent: nothing queued twice


def test_the_unsubscribe_page_in_french_and_a_broken_link(browser, live_server, received):
    _, message = received
    context = browser.new_context(locale="fr-FR", extra_http_headers={"Accept-Language": "fr"})
    page = context.new_page()
    url = message.extra_headers["List-Unsubscribe"].strip("<>")
    page.goto(url)
    expect(page.get_by_role("button", name="Se désabonner")).to_be_visible()
    page.goto(url[:-6] + "xxxxx/")
    expect(page.get_by_role("alert")).to_contain_text("Ce lien n'est pas valide ou a expiré")
    context.close()
