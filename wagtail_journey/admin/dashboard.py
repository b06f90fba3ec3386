"""The journey dashboard: a report page and a panel on the Wagtail home page.

Both show the same headline figures for a period beside the previous period
(:func:`cards`); the page adds daily charts, sources, landing pages and new
contacts per lifecycle stage. Its listing (and export) is the sources table.
"""

from __future__ import annotations

from datetime import date

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.components import Component
from wagtail.admin.ui.tables import Column, NumberColumn

from wagtail_journey.admin import charts
from wagtail_journey.admin.reports import TRAFFIC_PERMISSION, Card, JourneyReportView
from wagtail_journey.reports import dashboard
from wagtail_journey.stages import STAGE_LABELS
from wagtail_journey.tracking import audience


def cards(current: dashboard.Figures, previous: dashboard.Figures) -> list[Card]:
    """The headline figures, labelled with whose visits they count."""
    consented = _("consented")
    all_tracked = _("consented and audience-only")
    result = [
        Card(
            _("Unique visitors"), current.visitors, previous.visitors, all_tracked, key="visitors"
        ),
        Card(
            _("Consented visitors"),
            current.consented_visitors,
            previous.consented_visitors,
            consented,
            key="consented_visitors",
        ),
        Card(
            _("Audience-only visitors"),
            current.audience_visitors,
            previous.audience_visitors,
            _("exempt mode, statistics only"),
            key="audience_visitors",
        ),
        Card(
            _("Anonymous page views"),
            current.anonymous_views,
            previous.anonymous_views,
            _("aggregates, no cookie"),
            key="anonymous_views",
        ),
        Card(_("Sessions"), current.sessions, previous.sessions, all_tracked, key="sessions"),
        Card(
            _("Bounce rate"),
            current.bounce_rate,
            previous.bounce_rate,
            _("single-page sessions"),
            "%",
            key="bounce_rate",
        ),
        Card(
            _("Form submissions"),
            current.submissions,
            previous.submissions,
            key="submissions",
        ),
        Card(_("Orders"), current.orders, previous.orders, key="orders"),
        Card(
            _("Conversion rate"),
            current.conversion_rate,
            previous.conversion_rate,
            _("submissions and orders per 100 sessions"),
            "%",
            key="conversion_rate",
        ),
        Card(
            _("Average orders per customer"),
            current.orders_per_customer,
            previous.orders_per_customer,
            key="orders_per_customer",
        ),
    ]
    for stage in dashboard.DASHBOARD_STAGES:
        result.append(
            Card(
                _("New: %(stage)s") % {"stage": STAGE_LABELS.get(stage, stage)},
                current.stages.get(stage, 0),
                previous.stages.get(stage, 0),
                _("contacts who entered the stage"),
                key=f"stage_{stage}",
            )
        )
    return result


class DashboardView(JourneyReportView):
    page_title = _("Journey dashboard")
    header_icon = "view"
    permission = TRAFFIC_PERMISSION
    index_url_name = "wagtail_journey_dashboard"
    index_results_url_name = "wagtail_journey_dashboard_results"
    results_template_name = "wagtail_journey/admin/reports/dashboard_results.html"
    export_filename = "journey-sources"
    columns = [
        Column("label", label=_("Source / medium")),
        NumberColumn("visitors", label=_("Visitors")),
        NumberColumn("sessions", label=_("Sessions")),
        NumberColumn("bounces", label=_("Bounces")),
        Column("bounce_rate", label=_("Bounce rate (%)")),
    ]
    list_export = ["label", "visitors", "sessions", "bounces", "bounce_rate"]
    export_headings = {
        "label": _("Source / medium"),
        "visitors": _("Visitors (first source in the period)"),
        "sessions": _("Sessions"),
        "bounces": _("Bounces"),
        "bounce_rate": _("Bounce rate (%)"),
    }

    def get_rows(self, start: date, end: date) -> list:
        rows = dashboard.sources(start, end)
        for row in rows:
            for name in ("visitors", "sessions", "bounces"):
                row.values.setdefault(name, 0)
            row.values["bounce_rate"] = row.rate("bounces", "sessions")
        return rows

    def get_report_context(self, start: date, end: date) -> dict:
        current = dashboard.figures(start, end)
        previous = dashboard.figures(*self.previous)
        metrics = ("sessions", "submissions", "orders")
        days = dashboard.daily_series(start, end, metrics)
        before = dashboard.daily_series(*self.previous, metrics)
        for rows in (days, before):
            for day in rows:
                day["conversions"] = day["submissions"] + day["orders"]
        landing = dashboard.landing_pages(start, end)
        for row in landing:
            row.values["bounce_rate"] = row.rate("entry_bounces", "entries")
        sources = self.object_list
        return {
            "figures": current,
            "previous_figures": previous,
            "previous_start": self.previous[0],
            "previous_end": self.previous[1],
            "cards": cards(current, previous),
            "landing_pages": landing,
            "charts": [
                charts.series(
                    "wj-chart-sessions",
                    _("Sessions per day"),
                    _(
                        "Sessions of consented and audience-only visitors per day (columns); "
                        "the dashed line is the previous period, day by day."
                    ),
                    days,
                    "sessions",
                    [_("Day"), _("Sessions"), _("Previous period")],
                    previous=before,
                ),
                charts.series(
                    "wj-chart-conversions",
                    _("Conversions per day"),
                    _("Form submissions and orders per day; dashed: the previous period."),
                    days,
                    "conversions",
                    [_("Day"), _("Conversions"), _("Previous period")],
                    previous=before,
                ),
                charts.bars(
                    "wj-chart-sources",
                    _("Visitors by source"),
                    _(
                        "Unique visitors by the source of their first session in the period "
                        "(UTM source / medium, or the referring domain); the rows add up to "
                        "all unique visitors."
                    ),
                    [(row.label, row.get("visitors")) for row in sources],
                    [_("Source / medium"), _("Visitors")],
                ),
            ],
        }


class DashboardPanel(Component):
    """The key figures of the last 30 days on the Wagtail home page, with a link."""

    name = "wagtail_journey_dashboard"
    order = 150
    template_name = "wagtail_journey/admin/reports/home_panel.html"

    def __init__(self, request):
        self.request = request

    def get_context_data(self, parent_context=None) -> dict:
        start, end = audience.default_period()
        current = dashboard.figures(start, end)
        previous = dashboard.figures(*dashboard.previous_period(start, end))
        keys = {"visitors", "bounce_rate", "submissions", "orders", "conversion_rate"}
        keys |= {"stage_lead", "stage_customer"}
        return {
            "cards": [card for card in cards(current, previous) if card.key in keys],
            "start": start,
            "end": end,
            "url": reverse("wagtail_journey_dashboard"),
        }


def construct_homepage_panels(request, panels) -> None:
    if request.user.has_perm(TRAFFIC_PERMISSION):
        panels.append(DashboardPanel(request))
