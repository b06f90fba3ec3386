"""An editor builds an email template in the real admin, previews it with a
contact's data at desktop and phone widths, and sends a test to themself.

The live server runs in this process with anymail's test backend, so the test
reads the sent message from ``mail.outbox``.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.core import mail
from playwright.sync_api import Page, expect

from wagtail_journey.emails import rendering
from wagtail_journey.models import ConsentPurpose, Contact, EmailTemplate

pytestmark = pytest.mark.e2e

EDITOR = ("editor", "emails-e2e")


@pytest.fixture
def site_data(live_server, django_db_serialized_rollback):
    rendering.clear_cache()
    User.objects.create_superuser(EDITOR[0], "editor@site.example", EDITOR[1])
    ConsentPurpose.objects.create(
        key="marketing", name="Marketing emails", text="<p>News</p>", is_marketing=True
    )
    Contact.objects.create(email="zoe.martin@example.org", first_name="Zoé", last_name="Martin")
    Contact.objects.create(email="other@example.org", first_name="Other")
    mail.outbox = []


def sign_in(page: Page) -> None:
    page.goto("/admin/login/")
    page.get_by_role("textbox", name="Username").fill(EDITOR[0])
    page.get_by_role("textbox", name="Password").fill(EDITOR[1])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("navigation", name="Main menu")).to_be_visible()


def add_block(page: Page, block_label: str) -> None:
    page.locator("[data-contentpath='body']").get_by_role(
        "button", name="Insert a block"
    ).last.click()
    page.get_by_role("option", name=block_label, exact=True).click()


def test_editor_creates_previews_and_sends_a_test(page: Page, site_data, tmp_path):
    sign_in(page)
    page.goto("/admin/snippets/wagtail_journey/emailtemplate/add/")
    page.locator("#id_name").fill("Spring offer")
    page.locator("#id_subject").fill('Spring is here, {{ first_name|default:"friend" }}')
    page.get_by_role("button", name="Choose consent purpose").click()
    page.get_by_role("dialog").get_by_role("link", name="Marketing emails").click()

    add_block(page, "Heading")
    page.locator("[data-contentpath='body'] input[name$='-value-text']").first.fill(
        "Hello {{ first_name }} {{ shoe_size }}"
    )
    add_block(page, "Button")
    body = page.locator("[data-contentpath='body']")
    body.locator("input[name$='-value-label']").fill("See the offer")
    body.locator("input[name$='-value-url']").fill("https://shop.example/spring")

    # An unknown merge tag: saving names it and stores nothing.
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("{{ shoe_size }}").first).to_be_visible()
    assert not EmailTemplate.objects.exists()

    page.locator("[data-contentpath='body'] input[name$='-value-text']").first.fill(
        'Hello {{ first_name|default:"there" }}'
    )
    page.get_by_role("button", name="Save draft").click()
    expect(page).to_have_url(re.compile(r"/emailtemplate/edit/\d+/"))
    template = EmailTemplate.objects.get()
    assert template.latest_revision_id

    page.get_by_role("link", name="Preview and test").click()
    page.get_by_role("searchbox", name="Find a contact by email or name").fill("zoe")
    page.locator("#main").get_by_role("button", name="Search").click()
    page.get_by_role("link", name=re.compile("Zoé Martin")).click()
    expect(page.locator("[data-wj-preview-who]")).to_contain_text("zoe.martin@example.org")
    expect(page.locator("[data-wj-preview-subject]")).to_have_text("Spring is here, Zoé")

    desktop = page.frame_locator("[data-wj-frame=desktop]")
    phone = page.frame_locator("[data-wj-frame=mobile]")
    expect(desktop.get_by_text("Hello Zoé")).to_be_visible()
    expect(phone.get_by_role("link", name="See the offer")).to_be_visible()
    # The phone frame is 375 px wide: the email's body fills it, no wider.
    width = phone.locator("body").evaluate("b => b.scrollWidth")
    assert width <= 375
    page.screenshot(path=tmp_path / "preview.png", full_page=True)

    page.get_by_role("button", name=re.compile("Send a test to me")).click()
    expect(page.get_by_text("A test was sent to editor@site.example")).to_be_visible()
    (message,) = mail.outbox
    assert message.to == ["editor@site.example"]
    assert message.subject == "[Test] Spring is here, Zoé"
    html = message.alternatives[0][0]
    assert "This is a test" in html and "Hello Zoé" in html
    assert "https://shop.example/spring" in html  # test links are not tracked
    assert (
        page.context.outside_requests == [] if hasattr(page.context, "outside_requests") else True
    )
