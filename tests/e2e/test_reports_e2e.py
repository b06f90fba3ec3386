"""An editor reads the journey dashboard and the funnel on the demo's figures, in a browser."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.humanize.templatetags.humanize import intcomma
from playwright.sync_api import expect

from tests.e2e.test_admin_login import sign_in
from wagtail_journey.reports import dashboard, funnel
from wagtail_journey.tracking import audience

pytestmark = pytest.mark.e2e


@pytest.fixture
def marketer(demo_site, django_user_model):
    """An editor whose group may read the journey reports (not a superuser)."""
    user = django_user_model.objects.create_user("marketer", password="reports-pw")
    group = Group.objects.create(name="Marketing")
    group.permissions.add(
        *Permission.objects.filter(
            codename__in=["access_admin", "view_traffic_reports", "view_funnel_reports"]
        )
    )
    user.groups.add(group)
    return user


def test_editor_reads_the_dashboard_and_the_funnel(page, context, marketer, live_server):
    start, end = audience.default_period()
    figures = dashboard.figures(start, end)
    assert figures.visitors > 100  # the demo's months of traffic

    page.goto("/admin/")
    sign_in(page, "marketer", "reports-pw")
    panel = page.locator("[data-wj-dashboard-panel]")
    expect(panel.locator("[data-wj-card=visitors] [data-wj-value]")).to_have_text(
        intcomma(figures.visitors)
    )
    panel.get_by_role("link", name="Open the journey dashboard").click()
    expect(page).to_have_url(f"{live_server.url}/admin/journey/reports/dashboard/")
    main = page.get_by_role("main")
    expect(main.get_by_role("heading", level=1)).to_have_text("Journey dashboard")
    expect(main.locator("[data-wj-card=orders] [data-wj-value]")).to_have_text(
        intcomma(figures.orders)
    )
    expect(main.locator("[data-wj-card=bounce_rate] [data-wj-value]")).to_have_text(
        f"{figures.bounce_rate}%"
    )
    # Three charts, each an image with a name, and its numbers as a table on demand.
    charts = main.get_by_role("img")
    expect(charts).to_have_count(3)
    expect(main.get_by_role("img", name="Visitors by source")).to_be_visible()
    sources = main.locator("[data-wj-chart=wj-chart-sources]")
    table = sources.get_by_role("table")
    expect(table).to_be_hidden()
    sources.get_by_text("Show the data as a table").click()
    expect(table.get_by_role("row", name="google / cpc")).to_be_visible()
    # The sessions chart draws one column per day of the period (and its previous-period line).
    days = (end - start).days + 1
    expect(main.locator("[data-wj-chart=wj-chart-sessions] rect")).to_have_count(days)
    expect(main.locator("[data-wj-chart=wj-chart-sessions] polyline")).to_have_count(1)
    # Colours come from the stylesheet (Wagtail's variables), not from inline styles.
    fill = main.locator(".wj-chart__bar").first.evaluate("e => getComputedStyle(e).fill")
    assert fill.startswith("rgb") and fill != "rgb(0, 0, 0)"
    assert main.locator("[data-wj-dashboard] [style]").count() == 0

    # The funnel, from the Reports menu.
    menu = page.get_by_role("navigation", name="Main menu")
    menu.get_by_role("button", name="Reports", exact=True).click()
    menu.get_by_role("link", name="Funnel and drop-off").click()
    expect(main.get_by_role("heading", level=1)).to_have_text("Funnel")
    stages = {r.stage: r for r in funnel.lifecycle_funnel(start, end)}
    customers = main.get_by_role("row", name=re.compile(r"^Lifecycle Customer"))
    expect(customers).to_contain_text(intcomma(stages["customer"].contacts))
    forms = main.locator("[data-wj-forms]")
    expect(forms.get_by_role("row", name=re.compile("Free guide"))).to_be_visible()
    expect(main.locator("[data-wj-cart-rate]")).to_have_text(f"{figures.cart_abandonment_rate}%")
    expect(main.get_by_role("img", name="Where sessions end")).to_be_visible()
    assert context.outside_requests == []


def test_editor_reads_the_journey_map_after_the_guide_form(page, marketer, live_server):
    page.goto("/admin/")
    sign_in(page, "marketer", "reports-pw")
    menu = page.get_by_role("navigation", name="Main menu")
    menu.get_by_role("button", name="Reports", exact=True).click()
    menu.get_by_role("link", name="Journey map").click()
    main = page.get_by_role("main")
    expect(main.get_by_role("heading", level=1)).to_have_text("Journey map")
    page.goto("/admin/journey/reports/journey-map/?start=form_submitted")
    intro = main.locator("[data-wj-journey-map] > .wj-help")
    expect(intro).to_contain_text("started with “form_submitted”")
    expect(main.get_by_role("img", name="Step 1")).to_be_visible()
    moves = main.get_by_role("row", name=re.compile(r"^1 form_submitted"))
    expect(moves.first).to_be_visible()
