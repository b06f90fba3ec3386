"""The landing page report: per page, sessions, visitors, bounces and submissions."""

from __future__ import annotations

from datetime import date

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.tables import Column, NumberColumn, TitleColumn

from wagtail_journey.admin import charts
from wagtail_journey.admin.reports import TRAFFIC_PERMISSION, JourneyReportView
from wagtail_journey.reports.landing import landing_page_rows


class LandingPagesView(JourneyReportView):
    page_title = _("Landing pages")
    permission = TRAFFIC_PERMISSION
    index_url_name = "wagtail_journey_landing_pages"
    index_results_url_name = "wagtail_journey_landing_pages_results"
    results_template_name = "wagtail_journey/admin/reports/landing_results.html"
    export_filename = "journey-landing-pages"
    columns = [
        TitleColumn(
            "label",
            label=_("Page"),
            get_url=lambda row: reverse("wagtailadmin_pages:edit", args=[row["page_id"]]),
        ),
        NumberColumn("entries", label=_("Sessions started")),
        NumberColumn("visitors", label=_("Unique visitors")),
        Column("bounce_rate", label=_("Bounce rate (%)")),
        NumberColumn("form_submissions", label=_("Form submissions")),
        Column("conversion_rate", label=_("Conversion rate (%)")),
        Column("top_source", label=_("Main source")),
    ]
    list_export = [
        "page_id",
        "label",
        "entries",
        "visitors",
        "entry_bounces",
        "bounce_rate",
        "views",
        "page_sessions",
        "form_submissions",
        "conversion_rate",
        "top_source",
        "anonymous_views",
    ]
    export_headings = {
        "page_id": _("Page ID"),
        "label": _("Page"),
        "entries": _("Sessions started"),
        "visitors": _("Unique visitors"),
        "entry_bounces": _("Bounces"),
        "bounce_rate": _("Bounce rate (%)"),
        "views": _("Page views"),
        "page_sessions": _("Sessions that saw the page"),
        "form_submissions": _("Form submissions"),
        "conversion_rate": _("Conversion rate (%)"),
        "top_source": _("Main source"),
        "anonymous_views": _("Anonymous page views"),
    }

    def get_rows(self, start: date, end: date) -> list:
        return landing_page_rows(start, end)

    def get_report_context(self, start: date, end: date) -> dict:
        rows = self.object_list[:10]
        return {
            "chart": charts.bars(
                "wj-chart-landing",
                _("Sessions started per landing page"),
                _("The ten pages where most sessions started in the period."),
                [(row.label, row.get("entries")) for row in rows],
                [_("Page"), _("Sessions started")],
            )
        }
