"""Every demo page opens in the real Wagtail editor and publishes unchanged (issue 9, item 12).

An optional block an editor left blank (the hero's call to action on the demo's landing page)
must not stop the page from being published again: Wagtail's editor posts every block, blank
ones included, and validates them all.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from wagtail.models import Page

from tests.e2e.test_landing_forms import sign_in

pytestmark = pytest.mark.e2e


def test_every_demo_page_publishes_unchanged_from_the_editor(page, demo_site, settings):
    # Autosave off: the Publish click is the one POST (see test_landing_forms).
    settings.WAGTAIL_AUTOSAVE_INTERVAL = 0
    pages = list(Page.objects.filter(depth__gt=1).live().specific().order_by("path"))
    assert {p.slug for p in pages} >= {"guide", "pricing", "privacy-policy"}
    sign_in(page)

    for demo_page in pages:
        before = demo_page.live_revision_id
        page.goto(f"/admin/pages/{demo_page.pk}/edit/")
        expect(page.get_by_role("heading", level=1)).to_contain_text(demo_page.title)
        page.get_by_role("button", name="More actions").click()
        page.get_by_role("button", name="Publish").click()

        expect(page.get_by_text(f"Page '{demo_page.title}' has been published.")).to_be_visible()
        expect(page.locator(".help-critical, .error-message")).to_have_count(0)
        demo_page.refresh_from_db()
        assert demo_page.live and not demo_page.has_unpublished_changes, demo_page.slug
        assert demo_page.live_revision_id != before, demo_page.slug
