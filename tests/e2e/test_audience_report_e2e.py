"""An editor reads the Audience report: seeded daily counts and a real anonymous visit."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from demo.management.commands.load_demo import DEMO_ADMIN
from demo.models import ArticlePage, HomePage
from tests.e2e.test_admin_login import sign_in
from wagtail_journey.models import DailyPageStat

pytestmark = pytest.mark.e2e


@pytest.fixture
def launch_page(demo_site):
    """A page whose title must show as text, with anonymous counts on two earlier days."""
    page = ArticlePage(title="Launch <notes>", slug="launch-notes", summary="New things")
    HomePage.objects.get().add_child(instance=page)
    page.save_revision().publish()
    today = timezone.localdate()
    for days_ago, source, views, visitors in [
        (2, "newsletter", 40, 25),
        (2, "", 2, 1),
        (5, "", 7, 7),
    ]:
        DailyPageStat.objects.create(
            day=today - timedelta(days=days_ago),
            page=page,
            source=source,
            views=views,
            visitors=visitors,
        )
    return page


def test_editor_reads_anonymous_counts_of_a_page_in_the_audience_report(
    page, context, launch_page, live_server
):
    # A visitor who never answers the consent banner: counted, without a cookie.
    visit = context.browser.new_context().new_page()
    visit.route(re.compile(r"^(?!" + re.escape(live_server.url) + ").*"), lambda r: r.abort())
    visit.goto(f"{live_server.url}/launch-notes/")
    expect(visit.get_by_role("heading", name="Launch <notes>")).to_be_visible()
    assert not [c for c in visit.context.cookies() if c["name"].startswith("wj_")]
    visit.context.close()

    page.goto("/admin/")
    sign_in(page, *DEMO_ADMIN)
    menu = page.get_by_role("navigation", name="Main menu")
    menu.get_by_role("button", name="Journey", exact=True).click()
    menu.get_by_role("link", name="Audience", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/admin/journey/audience/")
    main = page.get_by_role("main")
    expect(main.get_by_role("heading", level=1)).to_have_text("Audience")

    # Narrow it to the launch page with Wagtail's filter drawer.
    page.get_by_role("button", name="Show filters").click()
    page.get_by_role("button", name="Page", exact=True).click()
    page.get_by_label("Page", exact=True).select_option(label="Launch <notes>")
    chip = page.locator(".w-active-filters")
    expect(chip).to_contain_text("Launch <notes>")
    expect(page).to_have_url(re.compile(rf"[?&]page={launch_page.pk}(&|$)"))

    totals = main.locator("[data-wj-audience-totals]")
    # 40 + 2 and 7 seeded, and the visit just made (today).
    expect(totals.locator('[data-total="anonymous_views"]')).to_have_text("50")
    expect(totals.locator('[data-total="anonymous_visitors"]')).to_have_text("34")
    expect(totals.locator('[data-total="consented_views"]')).to_have_text("0")

    rows = main.locator("table.listing").last.locator("tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text(re.compile(r"Launch <notes>\s+1\s+1"))
    expect(rows.nth(1)).to_contain_text(re.compile(r"Launch <notes>\s+42\s+26"))
    expect(rows.nth(2)).to_contain_text(re.compile(r"Launch <notes>\s+7\s+7"))
    expect(rows.nth(0).get_by_role("link", name="Launch <notes>")).to_have_attribute(
        "href", f"/admin/pages/{launch_page.pk}/edit/"
    )

    # The per-day table, opened by the editor, has the same numbers with a total.
    main.get_by_text("Per day", exact=True).click()
    days = main.locator("[data-wj-audience-days]")
    expect(days.locator("tbody tr")).to_have_count(30)
    expect(days.locator("tfoot tr")).to_contain_text(re.compile(r"Total\s+50\s+34\s+0\s+0\s+50"))
    assert context.outside_requests == []
