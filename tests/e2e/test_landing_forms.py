"""Landing pages with consented forms, clicked through in chromium (issue 3, real parts).

An editor builds and publishes a landing page in the real Wagtail admin; visitors submit the
demo's /guide/ form without and with the required consent, and confirm marketing consent
from the link in the double-opt-in email. The server is pytest-django's live_server on the
test settings: django-q2 runs tasks in-process (``Q_CLUSTER["sync"]``), mail lands in
``django.core.mail.outbox``, ``FORM_MIN_FILL_SECONDS`` is 0.
"""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from demo.management.commands.load_demo import DEMO_ADMIN
from wagtail_journey.models import (
    ConsentPurpose,
    ConsentRecord,
    Contact,
    FormSubmission,
    Touchpoint,
)
from wagtail_journey.pages import LandingPage
from wagtail_journey.privacy.consent import has_consent

pytestmark = pytest.mark.e2e

REQUIRED_ERROR = "Please tick this box to continue."


def sign_in(page: Page) -> None:
    page.goto("/admin/login/")
    username, password = DEMO_ADMIN
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("navigation", name="Main menu")).to_be_visible()


def words(html: str) -> str:
    """The text an editor's rich text shows."""
    return re.sub(r"<[^>]+>", "", html).strip()


def consent_box(page: Page, purpose: ConsentPurpose):
    """A purpose's checkbox, found by the words of its label (the purpose's text)."""
    return page.get_by_role("checkbox", name=words(purpose.text))


@pytest.fixture
def guide(demo_site) -> LandingPage:
    """The demo's /guide/ landing page: email, first name, company size; a required
    privacy-policy purpose and an optional double-opt-in marketing purpose."""
    return LandingPage.objects.get(slug="guide")


def guide_form(guide: LandingPage) -> dict:
    return next(child.value for child in guide.body if child.block_type == "form")


def stored_counts() -> dict[str, int]:
    """What a submission stores (the demo already has contacts and touchpoints)."""
    return {
        "contacts": Contact.objects.count(),
        "submissions": FormSubmission.objects.count(),
        "consents": ConsentRecord.objects.count(),
        "form_submitted": Touchpoint.objects.filter(kind="form_submitted").count(),
    }


def test_editor_builds_a_landing_page_with_a_consented_form_and_publishes_it(
    page, demo_site, live_server, settings
):
    # Wagtail 8 autosaves drafts as the editor types; its first successful autosave creates
    # the page, and a Publish posted before the browser has switched to the edit URL creates
    # it a second time (Wagtail answers 500: slug in use). A browser test clicks fast enough
    # to hit that; autosave is Wagtail's business, so it is off here and Publish is the one
    # POST that creates the page.
    settings.WAGTAIL_AUTOSAVE_INTERVAL = 0
    privacy = ConsentPurpose.objects.get(key="privacy")
    assert privacy.required
    home = demo_site.root_page
    sign_in(page)

    menu = page.get_by_role("navigation", name="Main menu")
    menu.get_by_role("button", name="Pages").click()
    menu.get_by_role("link", name=home.title, exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/admin/pages/{home.pk}/")
    page.get_by_role("link", name="Add child page", exact=True).click()
    page.get_by_role("link", name="Landing page", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Landing page")

    page.get_by_role("textbox", name="Title*").fill("Webinar: consent in practice")
    body = page.locator("#panel-child-content-body-section")
    body.get_by_role("button", name="Insert a block").click()
    page.get_by_role("option", name="Form", exact=True).click()
    body.get_by_role("textbox", name="Form name*").fill("Webinar registration")
    body.get_by_role("textbox", name="Label*").fill("Email")
    body.get_by_label("Type*").select_option("email")
    # Once the editor notices changes it slides "You have unsaved edits" into the footer,
    # over the bottom of the form, where a mouse click can land instead of on its target:
    # the controls further down are operated with the keyboard, as keyboard users do.
    required = body.get_by_role("checkbox", name="Required")
    required.press("Space")
    expect(required).to_be_checked()
    body.get_by_label("Save to contact").select_option("email")

    consents = body.locator("[data-contentpath='consents']")
    consents.get_by_role("button", name="Add").press("Enter")
    consents.get_by_role("button", name="Choose consent purpose").press("Enter")
    chooser = page.get_by_role("dialog")
    expect(chooser.get_by_role("heading", name="Choose consent purpose")).to_be_visible()
    chooser.get_by_role("link", name=privacy.name, exact=True).click()
    expect(chooser).to_be_hidden()
    expect(consents).to_contain_text(privacy.name)

    page.get_by_role("button", name="More actions").click()
    page.get_by_role("button", name="Publish").click()

    expect(
        page.get_by_text("Page 'Webinar: consent in practice' created and published.")
    ).to_be_visible()
    landing = LandingPage.objects.get(title="Webinar: consent in practice")
    assert landing.live and not landing.has_unpublished_changes
    assert landing.get_parent().pk == home.pk
    (form_block,) = [child for child in landing.body if child.block_type == "form"]
    assert form_block.value["name"] == "Webinar registration"
    (field,) = form_block.value["fields"]
    assert (field["label"], field["field_type"], field["required"], field["maps_to"]) == (
        "Email",
        "email",
        True,
        "email",
    )
    assert [p.pk for p in form_block.value["consents"]] == [privacy.pk]

    # The published page as a visitor sees it, reached from the admin's "View live".
    page.get_by_role("link", name="View live").click()
    expect(page).to_have_url(f"{live_server.url}/{landing.slug}/")
    email = page.get_by_role("textbox", name="Email")
    expect(email).to_be_visible()
    expect(email).to_have_attribute("type", "email")
    box = consent_box(page, privacy)
    expect(box).to_be_visible()
    expect(box).not_to_be_checked()
    expect(page.get_by_role("button", name="Submit")).to_be_visible()


def test_visitor_needs_the_required_consent_then_submits(page, guide, live_server):
    form = guide_form(guide)
    privacy = ConsentPurpose.objects.get(key="privacy")
    marketing = ConsentPurpose.objects.get(key="marketing")
    before = stored_counts()
    page.goto(guide.url)
    email = page.get_by_role("textbox", name="Email")
    expect(email).to_be_visible()
    expect(consent_box(page, privacy)).not_to_be_checked()
    expect(consent_box(page, marketing)).not_to_be_checked()

    email.fill("Ines.Carvalho@Example.com")
    page.get_by_role("textbox", name="First name").fill("Inês")
    page.get_by_role("button", name=form["submit_label"]).click()

    # The error sits next to the box and is its accessible description; the input is kept.
    box = consent_box(page, privacy)
    expect(box).to_have_attribute("aria-invalid", "true")
    expect(box).to_have_accessible_description(REQUIRED_ERROR)
    expect(page.get_by_role("alert")).to_contain_text("Please correct the errors below.")
    expect(page.get_by_role("textbox", name="Email")).to_have_value("Ines.Carvalho@Example.com")
    expect(page.get_by_role("textbox", name="First name")).to_have_value("Inês")
    expect(box).not_to_be_checked()
    assert stored_counts() == before
    assert not Contact.objects.filter(email__iexact="ines.carvalho@example.com").exists()

    box.check()
    page.get_by_role("button", name=form["submit_label"]).click()

    expect(page.get_by_role("status")).to_have_text(words(form["success_message"].source))
    expect(page.get_by_role("button", name=form["submit_label"])).to_have_count(0)

    assert stored_counts() == {
        "contacts": before["contacts"] + 1,
        "submissions": 1,
        "consents": before["consents"] + 2,
        # The demo's months of report traffic hold earlier form_submitted facts.
        "form_submitted": before["form_submitted"] + 1,
    }
    contact = Contact.objects.get(email="ines.carvalho@example.com")
    assert contact.first_name == "Inês"
    submission = FormSubmission.objects.get()
    assert submission.contact == contact and submission.page_id == guide.pk
    assert submission.form_name == form["name"]
    assert submission.data["email"] == "Ines.Carvalho@Example.com"  # as typed; contact normalised
    assert {k: v["action"] for k, v in submission.consent_snapshot.items()} == {
        "privacy": "granted",
        "marketing": "refused",
    }
    records = {
        r.purpose.key: r
        for r in ConsentRecord.objects.select_related("purpose").filter(contact=contact)
    }
    assert records["privacy"].action == ConsentRecord.Action.GRANTED
    assert records["marketing"].action == ConsentRecord.Action.REFUSED
    assert records["privacy"].submission == submission
    assert records["privacy"].source_url == f"{live_server.url}{guide.url}"
    assert "privacy policy" in records["privacy"].text_shown
    assert records["privacy"].user_agent  # the browser's, as proof
    touchpoint = Touchpoint.objects.get(kind="form_submitted", contact=contact)
    assert touchpoint.page_id == guide.pk
    assert touchpoint.properties["submission"] == submission.pk
    assert mail.outbox == []  # marketing refused: no confirmation email


def test_confirmation_link_from_the_email_confirms_marketing_consent(page, guide, live_server):
    form = guide_form(guide)
    privacy = ConsentPurpose.objects.get(key="privacy")
    marketing = ConsentPurpose.objects.get(key="marketing")
    assert marketing.double_opt_in
    page.goto(guide.url)
    page.get_by_role("textbox", name="Email").fill("jo@example.org")
    consent_box(page, privacy).check()
    consent_box(page, marketing).check()
    page.get_by_role("button", name=form["submit_label"]).click()
    expect(page.get_by_role("status")).to_have_text(words(form["success_message"].source))

    record = ConsentRecord.objects.get(purpose=marketing, contact__email="jo@example.org")
    assert record.action == ConsentRecord.Action.GRANTED and record.double_opt_in
    assert record.confirmed_at is None
    assert not has_consent(record.contact, "marketing")  # unconfirmed does not count

    # Sent after commit by the django-q2 task (run in-process in tests) through anymail.
    (message,) = mail.outbox
    assert message.to == ["jo@example.org"]
    assert message.subject == "Please confirm your subscription"
    link = re.search(r"https?://\S+/journey/confirm/\S+/", message.body).group(0)
    assert link.startswith(live_server.url)

    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your subscription")
    expect(page.get_by_role("main")).to_contain_text(marketing.name)
    record.refresh_from_db()
    assert record.confirmed_at is None  # opening the link (a mail scanner) confirms nothing

    page.get_by_role("button", name="Yes, confirm").click()
    expect(page.get_by_role("status")).to_have_text(
        f"Thank you! Your consent to “{marketing.name}” is confirmed."
    )
    record.refresh_from_db()
    assert record.confirmed_at is not None
    assert has_consent(record.contact, "marketing")
    assert Touchpoint.objects.filter(kind="consent_confirmed", contact=record.contact).count() == 1
