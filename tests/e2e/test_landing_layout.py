"""The demo landing page looks finished out of the box, on a phone and a desktop (item 25).

The package's stylesheet (journey.css, linked by {% journey_styles %}) lays out the hero,
features, rich text, testimonial, call to action and form; nothing overflows at 390 px,
with or without error messages, and a visitor on a phone fills in the form, is told what
to correct, sends it, and finds the page as new when they come back.
"""

from __future__ import annotations

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from tests.e2e.test_consent_banner import DESKTOP, PHONE, no_horizontal_overflow
from tests.e2e.test_landing_forms import consent_box, guide_form, words
from wagtail_journey.models import ConsentPurpose, FormSubmission, LandingPage

pytestmark = pytest.mark.e2e


@pytest.fixture
def guide(demo_site) -> LandingPage:
    return LandingPage.objects.get(slug="guide")


def css(locator, prop: str) -> str:
    return locator.evaluate(f"el => getComputedStyle(el).getPropertyValue('{prop}')")


def inside(page: Page, selector: str) -> None:
    """Every element matching ``selector`` lies within the viewport's width (the honeypot is
    clipped to nothing and left out by the callers)."""
    width = page.viewport_size["width"]
    for element in page.locator(selector).all():
        frame = element.bounding_box()
        if frame is None:  # not rendered
            continue
        assert frame["x"] >= 0 and frame["x"] + frame["width"] <= width + 0.5, (selector, frame)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "1280px"])
def test_landing_page_blocks_are_styled_and_fit_the_screen(page, guide, viewport, tmp_path):
    page.set_viewport_size(viewport)
    page.goto(guide.url)
    page.get_by_role("button", name="Refuse analytics").click()

    main = page.get_by_role("main")
    hero = main.locator(".wj-hero")
    expect(hero.get_by_role("heading", level=1)).to_have_text(guide.body[0].value["heading"])
    assert css(hero, "background-image").startswith("linear-gradient")
    features = main.locator(".wj-feature")
    expect(features).to_have_count(3)
    tops = {round(f.bounding_box()["y"]) for f in features.all()}
    # Stacked on a phone, side by side on a desktop.
    assert len(tops) == (3 if viewport is PHONE else 1)
    testimonial = main.locator(".wj-testimonial")
    assert css(testimonial, "border-left-width") == "4px"
    cta = main.get_by_role("link", name="Read customer stories")
    assert css(cta, "border-top-width") == "2px" and cta.bounding_box()["height"] >= 44
    submit = main.get_by_role("button", name="Send me the guide")
    assert css(submit, "background-color") != "rgba(0, 0, 0, 0)"
    assert submit.bounding_box()["height"] >= 44
    email = main.get_by_role("textbox", name="Email")
    assert email.bounding_box()["height"] >= 44

    no_horizontal_overflow(page)
    inside(page, "main *:not(.wj-hp, .wj-hp *)")
    page.screenshot(path=tmp_path / f"guide-{viewport['width']}.png", full_page=True)
    assert page.context.outside_requests == []


SITE_RULES = """
:root { --wj-primary: rgb(4, 5, 6); --wj-consent-accent: rgb(7, 8, 9); }
.wj-cta { color: rgb(1, 2, 3); }
"""


def test_a_site_restyles_blocks_and_banner_with_its_own_rules_placed_before_ours(page, guide):
    page.goto(guide.url)
    # The site's stylesheet comes first: simple selectors still win (ours have specificity 0).
    page.evaluate(
        "css => { const s = document.createElement('style'); s.textContent = css;"
        " document.head.prepend(s); }",
        SITE_RULES,
    )
    main = page.get_by_role("main")
    assert css(main.get_by_role("button", name="Send me the guide"), "background-color") == (
        "rgb(4, 5, 6)"
    )
    assert css(main.get_by_role("link", name="Read customer stories"), "color") == "rgb(1, 2, 3)"
    accept = page.get_by_role("button", name="Accept analytics")
    assert css(accept, "background-color") == "rgb(7, 8, 9)"


def test_a_visitor_fills_in_the_form_on_a_phone(page, guide, live_server):
    form = guide_form(guide)
    privacy = ConsentPurpose.objects.get(key="privacy")
    page.set_viewport_size(PHONE)
    page.goto(guide.url)
    page.get_by_role("button", name="Refuse analytics").click()
    main = page.get_by_role("main")

    main.get_by_role("textbox", name="Email").fill("ana.phone@example.com")
    main.get_by_role("textbox", name="First name").fill("Ana Maria Gonçalves de Albuquerque")
    main.get_by_role("combobox", name="Company size").select_option("11-50")
    main.get_by_role("button", name=form["submit_label"]).click()

    # Told what to correct, with nothing wider than the phone.
    expect(main.get_by_role("alert")).to_contain_text("Please correct the errors below.")
    box = consent_box(page, privacy)
    expect(box).to_have_attribute("aria-invalid", "true")
    no_horizontal_overflow(page)
    inside(page, "main *:not(.wj-hp, .wj-hp *)")
    expect(main.get_by_role("textbox", name="Email")).to_have_value("ana.phone@example.com")
    assert FormSubmission.objects.count() == 0

    box.check()
    main.get_by_role("button", name=form["submit_label"]).click()
    expect(main.get_by_role("status")).to_have_text(words(form["success_message"].source))
    no_horizontal_overflow(page)
    assert FormSubmission.objects.filter(contact__email="ana.phone@example.com").count() == 1
    assert mail.outbox == []  # marketing was not ticked: no confirmation email

    # Back on the page later: a fresh form, and the banner remembers the choice.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Home").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name=guide.title).click()
    expect(main.get_by_role("textbox", name="Email")).to_have_value("")
    expect(consent_box(page, privacy)).not_to_be_checked()
    expect(page.get_by_role("region", name="Analytics on this site")).to_be_hidden()
    page.reload()
    expect(main.get_by_role("button", name=form["submit_label"])).to_be_visible()
    no_horizontal_overflow(page)
    assert FormSubmission.objects.count() == 1
