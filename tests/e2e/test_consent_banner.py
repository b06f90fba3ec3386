"""The analytics consent banner as visitors meet it, in chromium (issue 9, item 22).

At a phone's width (390 px) and on a desktop: the banner sits at the bottom of the screen,
comes first in the keyboard order, refusing looks exactly like accepting, and the footer's
"Cookie settings" reopens it with the current choice; all by keyboard. Under a strict
Content-Security-Policy (no inline script or style) it works the same. French and Portuguese
visitors read it in their language.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from wagtail_journey.models import LandingPage, Visitor

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
STRICT_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


@pytest.fixture
def guide(demo_site) -> LandingPage:
    return LandingPage.objects.get(slug="guide")


def no_horizontal_overflow(page: Page) -> None:
    widths = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"page is {widths[0]} px wide in a {widths[1]} px viewport"


def consent_cookie(page: Page) -> str | None:
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    return cookies.get("wj_c")


def tab_to(page: Page, target, limit: int = 40) -> None:
    """Press Tab until ``target`` has the focus, as a keyboard user would."""
    for _ in range(limit):
        if target.evaluate("el => el === document.activeElement"):
            return
        page.keyboard.press("Tab")
    pytest.fail(f"{target} not reached with {limit} presses of Tab")


def choose_by_keyboard(page: Page, banner, button, cookie: str) -> None:
    """Tab to ``button`` (the next focusable element), press Enter: the choice is stored."""
    page.keyboard.press("Tab")
    expect(button).to_be_focused()
    page.keyboard.press("Enter")
    expect(banner).to_be_hidden()
    page.wait_for_function(f"document.cookie.includes('wj_c={cookie}')")


def box(locator) -> dict:
    return locator.bounding_box()


def look(locator) -> dict:
    """What a sighted visitor sees of a button: its size and colours."""
    style = locator.evaluate(
        "el => { const s = getComputedStyle(el);"
        " return [s.backgroundColor, s.color, s.fontSize, s.fontWeight, s.borderColor]; }"
    )
    size = box(locator)
    return {"style": style, "width": round(size["width"]), "height": round(size["height"])}


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "1280px"])
def test_banner_accept_refuse_and_reopen_by_keyboard(page, guide, viewport):
    page.set_viewport_size(viewport)
    demo_visitors = set(Visitor.objects.values_list("pk", flat=True))
    page.goto(guide.url)

    banner = page.get_by_role("region", name="Analytics on this site")
    expect(banner).to_be_visible()
    accept = banner.get_by_role("button", name="Accept analytics")
    refuse = banner.get_by_role("button", name="Refuse analytics")
    # At the bottom of the screen, not after the page content.
    frame = box(banner)
    assert abs(frame["y"] + frame["height"] - viewport["height"]) <= 1
    assert frame["width"] <= viewport["width"]
    no_horizontal_overflow(page)
    # Refusing is as easy as accepting: the same look, side by side.
    assert look(accept) == look(refuse)
    assert box(accept)["y"] == box(refuse)["y"]

    # First in the keyboard order; refused with the keyboard.
    page.keyboard.press("Tab")
    expect(accept).to_be_focused()
    choose_by_keyboard(page, banner, refuse, "0")
    assert not Visitor.objects.exclude(pk__in=demo_visitors).exists()  # refusing: no visitor

    # The keyboard goes on into the page, down to the footer's button, which reopens the
    # banner with the current choice.
    reopen = page.get_by_role("contentinfo").get_by_role("button", name="Cookie settings")
    page.keyboard.press("Tab")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link").first).to_be_focused()
    tab_to(page, reopen)
    page.keyboard.press("Enter")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Your current choice: analytics refused.")
    no_horizontal_overflow(page)
    # Escape leaves the choice as it was and goes back to the footer.
    page.keyboard.press("Escape")
    expect(banner).to_be_hidden()
    expect(reopen).to_be_focused()
    assert consent_cookie(page) == "0"

    # Changing one's mind: accept, by keyboard; focus returns to where the visitor was.
    page.keyboard.press("Enter")
    expect(banner).to_be_visible()
    choose_by_keyboard(page, banner, accept, "1")
    expect(reopen).to_be_focused()
    visitor = Visitor.objects.exclude(pk__in=demo_visitors).get()
    assert visitor.consented_at is not None and not visitor.audience_only

    # The next page does not ask again; the footer still offers the choice.
    page.reload()
    expect(banner).to_be_hidden()
    expect(reopen).to_be_visible()
    reopen.click()
    expect(banner).to_contain_text("Your current choice: analytics accepted.")
    assert page.context.outside_requests == []


def test_banner_works_under_a_strict_content_security_policy(page, guide, live_server):
    violations = []
    page.on(
        "console",
        lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None,
    )

    def with_csp(route):
        response = route.fetch()
        headers = {**response.headers, "content-security-policy": STRICT_CSP}
        route.fulfill(response=response, headers=headers)

    page.route(f"{live_server.url}{guide.url}", with_csp)
    page.set_viewport_size(PHONE)
    response = page.goto(guide.url)
    assert response.headers["content-security-policy"] == STRICT_CSP

    banner = page.get_by_role("region", name="Analytics on this site")
    expect(banner).to_be_visible()
    # The stylesheets applied: fixed at the bottom, buttons styled.
    assert banner.evaluate("el => getComputedStyle(el).position") == "fixed"
    hero = page.locator(".wj-hero")
    assert hero.evaluate("el => getComputedStyle(el).borderRadius") != "0px"
    banner.get_by_role("button", name="Accept analytics").press("Enter")
    expect(banner).to_be_hidden()
    for _ in range(50):  # the page's CSP forbids eval, so no wait_for_function here
        if consent_cookie(page) == "1":
            break
        page.wait_for_timeout(100)
    assert consent_cookie(page) == "1"
    page.get_by_role("button", name="Cookie settings").press("Enter")
    expect(banner).to_be_visible()
    assert violations == []


@pytest.mark.parametrize(
    ("locale", "title", "accept", "refuse", "reopen"),
    [
        (
            "fr-FR",
            "Mesure d'audience sur ce site",
            "Accepter la mesure d'audience",
            "Refuser la mesure d'audience",
            "Paramètres des cookies",
        ),
        (
            "pt-PT",
            "Análise estatística neste site",
            "Aceitar a análise estatística",
            "Recusar a análise estatística",
            "Definições de cookies",
        ),
    ],
)
def test_banner_speaks_french_and_portuguese(
    new_context, live_server, guide, locale, title, accept, refuse, reopen
):
    context = new_context(locale=locale, viewport=PHONE)
    page = context.new_page()
    page.goto(f"{live_server.url}{guide.url}")
    banner = page.get_by_role("region", name=title)
    expect(banner).to_be_visible()
    expect(banner.get_by_role("button", name=accept)).to_be_visible()
    banner.get_by_role("button", name=refuse).click()
    expect(banner).to_be_hidden()
    page.get_by_role("button", name=reopen).click()
    expect(banner).to_be_visible()
    no_horizontal_overflow(page)


def test_a_consented_script_loads_only_once_analytics_is_accepted(page, guide, new_context):
    # The demo's base.html gates demo/analytics-example.js with {% journey_consented_script %}.
    fetched = []
    page.on("request", lambda r: fetched.append(r.url) if "analytics-example" in r.url else None)
    page.goto(guide.url)
    expect(page.get_by_role("region", name="Analytics on this site")).to_be_visible()
    assert page.evaluate("window.demoAnalyticsLoaded") is None and fetched == []

    page.get_by_role("button", name="Accept analytics").click()
    page.wait_for_function("window.demoAnalyticsLoaded === 1")
    page.reload()  # granted: loaded with the page
    page.wait_for_function("window.demoAnalyticsLoaded === 1")
    assert len(fetched) == 2

    # Refused: never loaded, on this page or the next.
    other = new_context().new_page()
    other.goto(page.url)
    other.get_by_role("button", name="Refuse analytics").click()
    other.reload()
    other.wait_for_load_state("load")
    assert other.evaluate("window.demoAnalyticsLoaded") is None
