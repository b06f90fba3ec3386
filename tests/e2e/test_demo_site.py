"""A visitor opens the demo site in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from demo.management.commands.load_demo import ARTICLES

pytestmark = pytest.mark.e2e


def test_home_page_shows_its_title_and_opens_an_article(page, demo_site, live_server):
    response = page.goto("/")

    assert response is not None and response.status == 200
    expect(page).to_have_title(re.compile(r"^Journey demo\b"))
    main = page.get_by_role("main")
    expect(main.get_by_role("heading", level=1)).to_have_text("Journey demo")
    expect(main).to_contain_text("A Wagtail site with consent-first marketing automation.")
    for _slug, title, _summary in ARTICLES:
        expect(main.get_by_role("link", name=title, exact=True)).to_be_visible()

    slug, title, summary = ARTICLES[0]
    main.get_by_role("link", name=title, exact=True).click()

    expect(page).to_have_url(f"{live_server.url}/{slug}/")
    expect(page).to_have_title(re.compile(rf"^{re.escape(title)}\b"))
    expect(page.get_by_role("main").get_by_role("heading", level=1)).to_have_text(title)
    expect(page.get_by_role("main")).to_contain_text(summary)

    # The menu leads back home.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Home").click()
    expect(page.get_by_role("main").get_by_role("heading", level=1)).to_have_text("Journey demo")

    # A visitor's browser talks to this site only.
    assert page.context.outside_requests == []
