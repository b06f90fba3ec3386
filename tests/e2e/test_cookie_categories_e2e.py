"""The category banner (CONSENT_CATEGORIES) as visitors meet it, in chromium at 390 px.

The banner lists the configured categories under their purposes' names; a choice is a
form POST (the page comes back with it applied); gated scripts load only for granted
categories; the footer's "Cookie settings" reopens the banner with the choice ticked,
and without JavaScript it leads to the cookie-settings page, whose form does the same.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from wagtail_journey.models import ConsentPurpose
from wagtail_journey.pages import LandingPage
from wagtail_journey.tracking import cookie_consent

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def guide(demo_site, settings) -> LandingPage:
    for key, name in [
        ("cookies-analytics", "Audience measurement"),
        ("cookies-functionality", "Remember my settings"),
        ("cookies-marketing", "Advertising partners"),
    ]:
        ConsentPurpose.objects.create(name=name, key=key, text=f"<p>{name}.</p>")
    settings.WAGTAIL_JOURNEY = {
        **settings.WAGTAIL_JOURNEY,
        "CONSENT_CATEGORIES": {
            "analytics": "cookies-analytics",
            "functionality": "cookies-functionality",
            "marketing": "cookies-marketing",
        },
    }
    cookie_consent.clear_cache()
    from wagtail_journey.templatetags import journey_tracking

    journey_tracking._RENDERED.clear()
    yield LandingPage.objects.get(slug="guide")
    cookie_consent.clear_cache()
    journey_tracking._RENDERED.clear()


def cookies(page: Page) -> dict[str, str]:
    return {c["name"]: c["value"] for c in page.context.cookies()}


def no_horizontal_overflow(page: Page) -> None:
    widths = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"page is {widths[0]} px wide in a {widths[1]} px viewport"


def test_a_visitor_chooses_categories_and_changes_their_mind(page: Page, guide):
    page.set_viewport_size(PHONE)
    page.goto(guide.url)
    banner = page.get_by_role("region", name="Cookies on this site")
    expect(banner).to_be_visible()
    no_horizontal_overflow(page)
    expect(banner.get_by_label("Strictly necessary (always on)")).to_be_disabled()
    banner.get_by_label("Advertising partners").check()
    banner.get_by_role("button", name="Save my choices").click()
    page.wait_for_load_state()
    expect(banner).to_be_hidden()
    assert cookies(page)["wj_cc"] == "marketing" and cookies(page)["wj_c"] == "0"
    assert page.evaluate("window.demoAnalyticsLoaded || 0") == 0  # analytics not granted

    # The footer reopens it with the choice ticked; accepting everything loads analytics.
    page.get_by_role("contentinfo").get_by_role("button", name="Cookie settings").click()
    expect(banner).to_be_visible()
    expect(banner.get_by_label("Advertising partners")).to_be_checked()
    expect(banner.get_by_label("Audience measurement")).not_to_be_checked()
    banner.get_by_role("button", name="Accept all").click()
    page.wait_for_function("window.demoAnalyticsLoaded === 1")
    assert cookies(page)["wj_cc"] == "functionality.marketing" and cookies(page)["wj_c"] == "1"


def test_without_javascript_the_footer_link_leads_to_a_form(browser, guide, live_server):
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    page = context.new_page()
    page.goto(live_server.url + guide.url)
    page.get_by_role("contentinfo").get_by_role("link", name="Cookie settings").click()
    expect(page.get_by_role("heading", name="Cookie settings", level=1)).to_be_visible()
    no_horizontal_overflow(page)
    main = page.get_by_role("main")
    main.get_by_label("Remember my settings").check()
    main.get_by_role("button", name="Save my choices").click()
    expect(page.get_by_role("status")).to_have_text("Your choice is saved.")
    expect(page.get_by_role("main").get_by_label("Remember my settings")).to_be_checked()
    assert cookies(page)["wj_cc"] == "functionality"
    context.close()
