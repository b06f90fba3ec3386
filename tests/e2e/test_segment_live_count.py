"""An editor builds a segment in the real Wagtail admin and watches the live count.

Segments → Add: the count under the rules follows every rule added or changed,
counted on contacts this test creates (scores and tags like the demo's).
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from wagtail_journey.models import Contact, Segment
from wagtail_journey.segments import segment_queryset
from wagtail_journey.tags import add_tags

pytestmark = pytest.mark.e2e

EDITOR = ("editor", "segments-e2e")
# (email, score, tags): leads of a demo-like site.
PEOPLE = [
    ("ana.silva@example.com", 26, ["newsletter"]),
    ("jean.dupont@example.org", 8, ["newsletter", "vip"]),
    ("maria@example.net", 41, ["vip"]),
    ("li.wei@example.com", 15, []),
    ("sam@example.org", 0, ["vip"]),
]


def matching(min_score: int, tag: str | None = None) -> int:
    return sum(1 for _e, s, tags in PEOPLE if s >= min_score and (tag is None or tag in tags))


def label(n: int) -> str:
    return f"{n} contact matches these rules." if n == 1 else f"{n} contacts match these rules."


@pytest.fixture
def people(live_server, django_db_serialized_rollback):
    User.objects.create_superuser(EDITOR[0], "editor@example.com", EDITOR[1])
    for email, score, tags in PEOPLE:
        contact = Contact.objects.create(email=email, score=score)
        if tags:
            add_tags(contact, *tags)


def sign_in(page: Page) -> None:
    page.goto("/admin/login/")
    page.get_by_role("textbox", name="Username").fill(EDITOR[0])
    page.get_by_role("textbox", name="Password").fill(EDITOR[1])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("navigation", name="Main menu")).to_be_visible()


def add_block(page: Page, scope, block_label: str | None = None) -> None:
    """Click the last "Insert a block" button of ``scope``; pick ``block_label`` if asked."""
    scope.get_by_role("button", name="Insert a block").last.click()
    if block_label:
        page.get_by_role("option", name=block_label, exact=True).click()


def test_editor_sees_the_live_count_follow_the_rules(page: Page, people, live_server):
    sign_in(page)
    page.goto("/admin/wagtail_journey/segment/create/")
    count = page.locator("#wj-live-count")
    expect(count).to_have_text(label(0))  # no rule yet: nobody

    page.get_by_role("textbox", name="Name").fill("Engaged VIPs")
    groups = page.locator("[data-contentpath='rules']").first
    add_block(page, groups)  # the only block type: a group of rules
    rules = groups.locator("[data-contentpath='rules']").first  # the group's own rules
    add_block(page, rules, "Score range")
    page.get_by_role("spinbutton", name="At least").fill("10")
    expect(count).to_have_text(label(matching(10)))

    add_block(page, rules, "Has tag")
    page.get_by_role("textbox", name="Tag").fill("vip")
    expect(count).to_have_text(label(matching(10, "vip")))

    page.get_by_role("spinbutton", name="At least").fill("50")
    expect(count).to_have_text(label(matching(50, "vip")))

    page.get_by_role("spinbutton", name="At least").fill("10")
    expect(count).to_have_text(label(matching(10, "vip")))
    page.get_by_role("button", name=re.compile("^Save")).first.click()
    expect(page).to_have_url(re.compile(r"/admin/wagtail_journey/segment/$"))
    segment = Segment.objects.get(name="Engaged VIPs")
    expected = sorted(e for e, s, tags in PEOPLE if s >= 10 and "vip" in tags)
    assert sorted(segment_queryset(segment).values_list("email", flat=True)) == expected

    # Editing the saved segment: the count is there at once, and follows the editor.
    page.goto(f"/admin/wagtail_journey/segment/edit/{segment.pk}/")
    expect(count).to_have_text(label(len(expected)))
    page.get_by_role("combobox", name="Contacts match").last.select_option("any")
    expect(count).to_have_text(label(sum(1 for _e, s, t in PEOPLE if s >= 10 or "vip" in t)))
    page.get_by_role("combobox", name="Contacts match").last.select_option("all")
    expect(count).to_have_text(label(len(expected)))
    # Removing the tag rule leaves the score rule alone.
    page.get_by_role("button", name="Delete").last.click()
    expect(page.get_by_role("textbox", name="Tag")).to_have_count(0)
    expect(count).to_have_text(label(matching(10)))
    assert not page.context.outside_requests


def test_an_empty_group_never_shows_a_validation_error(page: Page, people, live_server):
    """A group just added has no rules: the count stays a count (issue 9, item 24)."""
    sign_in(page)
    page.goto("/admin/wagtail_journey/segment/create/")
    count = page.locator("#wj-live-count")
    groups = page.locator("[data-contentpath='rules']").first
    add_block(page, groups)
    rules = groups.locator("[data-contentpath='rules']").first
    add_block(page, rules, "Score range")
    page.get_by_role("spinbutton", name="At least").fill("10")
    expect(count).to_have_text(label(matching(10)))
    add_block(page, groups)  # a second group, still empty
    page.wait_for_timeout(1200)  # the count refreshes 600 ms after a click
    expect(count).to_have_text(label(matching(10)))
    expect(count).not_to_contain_text("StreamBlock")
    # An incomplete rule says what to do, in words.
    second = groups.locator("[data-contentpath='rules']").last
    add_block(page, second, "Has tag")
    expect(count).to_have_text("Complete the rules to see how many contacts match.")
    page.screenshot(path="/tmp/editor-shots/live-count-empty-group.png", full_page=True)
    assert not page.context.outside_requests
