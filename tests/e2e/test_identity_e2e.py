"""Identity and campaigns as visitors meet them, in chromium against the demo (issue 9).

- item 17: a visitor arrives from a campaign, accepts analytics on the landing page and
  signs up: the campaign is the contact's first touch;
- item 2: someone types a known contact's address into the form: the contact's name stays,
  the browser is not joined to the contact, the confirmation email echoes nothing typed;
  only the browser that confirms the link is joined.
"""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from tests.e2e.waiting import wait_for
from wagtail_journey.events import SYSTEM_KINDS
from wagtail_journey.models import (
    ConsentPurpose,
    Contact,
    FormSubmission,
    LandingPage,
    ScoreChange,
    Touchpoint,
    Visitor,
)

pytestmark = pytest.mark.e2e

CAMPAIGN = "utm_source=newsletter&utm_medium=email&utm_campaign=spring"


@pytest.fixture
def guide(demo_site) -> LandingPage:
    return LandingPage.objects.get(slug="guide")


def words(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html).strip()


def accept_analytics(page: Page) -> Visitor:
    page.locator("[data-journey-consent='1']").first.click()
    assert wait_for(lambda: "wj_c=1" in page.evaluate("document.cookie"))
    key = next(c["value"] for c in page.context.cookies() if c["name"] == "wj_vid")
    return Visitor.objects.get(key=key)


def sign_up(page: Page, email: str, first_name: str = "", *, marketing=False) -> None:
    page.get_by_role("textbox", name="Email").fill(email)
    if first_name:
        page.get_by_role("textbox", name="First name").fill(first_name)
    privacy = ConsentPurpose.objects.get(key="privacy")
    page.get_by_role("checkbox", name=words(privacy.text)).check()
    if marketing:
        purpose = ConsentPurpose.objects.get(key="marketing")
        page.get_by_role("checkbox", name=words(purpose.text)).check()
    page.locator("form [type=submit]").first.click()
    expect(page.get_by_role("status")).to_be_visible()


def test_the_campaign_of_the_page_where_analytics_is_accepted_is_the_first_touch(
    page, guide, tmp_path
):
    # Chromium drops keepalive beacons that go through Playwright's interception.
    page.context.unroute("**/*")
    page.goto(f"{guide.url}?{CAMPAIGN}")
    expect(page.locator("[data-journey-banner]")).to_be_visible()
    visitor = accept_analytics(page)
    page.screenshot(path=str(tmp_path / "accepted.png"))
    assert wait_for(lambda: Touchpoint.objects.filter(visitor=visitor).exists())
    view = Touchpoint.objects.get(visitor=visitor, kind="page_view")
    assert view.page_id == guide.pk
    assert view.utm == {"source": "newsletter", "medium": "email", "campaign": "spring"}

    sign_up(page, "spring.reader@example.org", "Rita")
    contact = Contact.objects.get(email="spring.reader@example.org")
    assert contact.first_touch["source"] == "newsletter"
    assert contact.first_touch["campaign"] == "spring"
    assert contact.first_touch["page"] == guide.pk


def test_a_known_address_typed_by_someone_else_neither_renames_nor_joins_the_contact(
    page, guide, new_context, live_server
):
    page.context.unroute("**/*")
    maria = Contact.objects.get(email="maria@example.net")
    timeline = set(maria.touchpoints.values_list("pk", flat=True))
    ledger = set(ScoreChange.objects.filter(contact=maria).values_list("pk", flat=True))
    page.goto("/pricing/?utm_source=mallory")
    page.goto(guide.url)
    mallory = accept_analytics(page)
    page.goto("/pricing/")
    page.goto(guide.url)
    sign_up(page, "MARIA@example.net", "Mallory <b>win</b> at evil.example", marketing=True)

    maria.refresh_from_db()
    assert maria.first_name == "Maria"
    assert FormSubmission.objects.get(contact=maria).data["first_name"].startswith("Mallory")
    mallory.refresh_from_db()
    assert mallory.contact_id is None
    # Mallory's page views earn Maria nothing: only the submission itself, a fact
    # about her address, is on her timeline (and scored), without Mallory's browser.
    new_points = ScoreChange.objects.filter(contact=maria).exclude(pk__in=ledger)
    assert {c.touchpoint.kind for c in new_points} <= {"form_submitted"}
    new = maria.touchpoints.exclude(pk__in=timeline)
    assert new.filter(kind="form_submitted").count() == 1
    assert {tp.kind for tp in new} <= SYSTEM_KINDS | {"form_submitted"}  # score, stage, tags
    assert not maria.touchpoints.filter(visitor=mallory).exists()

    (message,) = mail.outbox
    assert message.to == ["maria@example.net"]
    assert "evil.example" not in message.body and "Mallory" not in message.body
    link = re.search(r"https?://\S+/journey/confirm/\S+/", message.body).group(0)

    # Maria opens the email on her own browser and confirms: that browser joins her.
    context = new_context()
    hers = context.new_page()
    hers.goto(f"{live_server.url}/pricing/")
    maria_browser = accept_analytics(hers)
    hers.goto(link)
    hers.get_by_role("button", name="Yes, confirm").click()
    expect(hers.get_by_role("status")).to_be_visible()
    maria_browser.refresh_from_db()
    assert maria_browser.contact_id == maria.pk
    # The link reaches Mallory later (forwarded): a used link joins nothing.
    page.goto(link)
    expect(page.get_by_role("button", name="Yes, confirm")).to_have_count(0)
    mallory.refresh_from_db()
    assert mallory.contact_id is None
    context.close()
