"""An editor works with contacts in the real admin (issue 14, item 1).

Filters the contact list by segment, ticks three contacts and tags them in
bulk; then opens a contact and reads the anonymous visits that preceded the
form submission, marked as such on the timeline.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import Page, expect

from wagtail_journey import record
from wagtail_journey.models import Contact, Segment, Visitor
from wagtail_journey.segments import add_static_members

pytestmark = pytest.mark.e2e

EDITOR = ("editor", "contacts-e2e")
FAIR = ["ana@example.com", "bruno@example.com", "carla@example.com"]
OTHERS = ["dora@example.com", "eva@example.com"]


@pytest.fixture
def people(live_server, django_db_serialized_rollback):
    from wagtail.models import Page as WagtailPage

    User.objects.create_superuser(EDITOR[0], "editor@example.com", EDITOR[1])
    contacts = {email: Contact.objects.create(email=email) for email in FAIR + OTHERS}
    fair = Segment.objects.create(name="Met at the fair", kind=Segment.Kind.STATIC)
    add_static_members(fair, [contacts[e].pk for e in FAIR])
    # Fiona browsed anonymously twice, then filled in a form: who she was became known.
    page = WagtailPage.objects.filter(depth__gt=1).first()
    visitor = Visitor.objects.create()
    now = timezone.now()
    for days, session in ((5, 11), (3, 12)):
        record(
            "page_view",
            visitor=visitor,
            page=page,
            session=session,
            occurred_at=now - timedelta(days=days),
            utm={"source": "google", "medium": "cpc"},
        )
    record(
        "form_submitted",
        email="fiona@example.com",
        visitor=visitor,
        page=page,
        session=13,
        occurred_at=now - timedelta(days=1),
    )
    return fair


def sign_in(page: Page) -> None:
    page.goto("/admin/login/")
    page.get_by_role("textbox", name="Username").fill(EDITOR[0])
    page.get_by_role("textbox", name="Password").fill(EDITOR[1])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("navigation", name="Main menu")).to_be_visible(timeout=30_000)


def test_filter_by_segment_and_tag_three_contacts(page: Page, people):
    sign_in(page)
    page.goto("/admin/wagtail_journey/contact/")
    main = page.get_by_role("main")
    expect(main.get_by_role("link", name="dora@example.com", exact=True)).to_be_visible()
    # Filter by the segment from the filter panel.
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("button", name="Segment", exact=True).click()
    page.get_by_label("Segment", exact=True).select_option(label="Met at the fair")
    for email in OTHERS:
        expect(main.get_by_role("link", name=email, exact=True)).to_have_count(0)
    for email in FAIR:
        expect(main.get_by_role("link", name=email, exact=True)).to_be_visible()
    # Tick the three and tag them.
    for email in FAIR:
        row = main.get_by_role("row").filter(has=page.get_by_role("link", name=email, exact=True))
        row.get_by_role("checkbox").check()
    page.locator("[data-bulk-action-footer]").get_by_role(
        "link", name="Add tags to the selected contacts"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Tag")
    for email in FAIR:
        expect(page.get_by_text(email, exact=True)).to_be_visible()
    page.get_by_label("Tags").fill("fair-2026")
    page.get_by_role("button", name="Add the tags").click()
    expect(page.get_by_text("3 contacts got a new tag.")).to_be_visible()
    tagged = set(Contact.objects.filter(tags__name="fair-2026").values_list("email", flat=True))
    assert tagged == set(FAIR)
    # The listing, filtered by the new tag, shows the three.
    page.goto("/admin/wagtail_journey/contact/?tag=fair-2026")
    for email in FAIR:
        expect(main.get_by_role("link", name=email, exact=True)).to_be_visible()
    expect(main.get_by_role("link", name="dora@example.com", exact=True)).to_have_count(0)


def test_a_contact_page_shows_the_anonymous_visits_before_the_form(page: Page, people):
    sign_in(page)
    page.goto("/admin/wagtail_journey/contact/")
    page.get_by_role("main").get_by_role("link", name="fiona@example.com", exact=True).click()
    expect(page).to_have_url(re.compile(r"/admin/wagtail_journey/contact/inspect/\d+/$"))
    timeline = page.locator("section.wj-timeline")
    expect(timeline.get_by_role("heading", name="Timeline")).to_be_visible()
    visits = timeline.locator(".wj-visit")
    anonymous = timeline.locator(".wj-visit--anonymous")
    expect(anonymous).to_have_count(2)
    expect(anonymous.first).to_contain_text("before identification")
    expect(anonymous.first).to_contain_text("google / cpc")
    expect(anonymous.first).to_contain_text("Page view")
    # The form submission is in a later visit, not marked anonymous.
    form_visit = visits.filter(has_text="Form submitted")
    expect(form_visit).to_have_count(1)
    expect(form_visit).not_to_have_class(re.compile("wj-visit--anonymous"))
    # Only the form submissions, through the kind filter.
    timeline.get_by_label("Show").select_option(label="Form submitted")
    timeline.get_by_role("button", name="Filter").click()
    expect(page.locator("section.wj-timeline li[data-kind]")).to_have_count(1)
    expect(page.locator("section.wj-timeline li[data-kind='form_submitted']")).to_have_count(1)
