"""The funnel and drop-off reports: stages with conversion and median times;
where sessions end, forms seen but not sent, carts without an order."""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.tables import Column, NumberColumn

from wagtail_journey.admin import charts
from wagtail_journey.admin.reports import FUNNEL_PERMISSION, JourneyReportView
from wagtail_journey.reports import dashboard, funnel
from wagtail_journey.reports.topn import percent


class FunnelView(JourneyReportView):
    page_title = _("Funnel")
    header_icon = "order-down"
    permission = FUNNEL_PERMISSION
    index_url_name = "wagtail_journey_funnel"
    index_results_url_name = "wagtail_journey_funnel_results"
    results_template_name = "wagtail_journey/admin/reports/funnel_results.html"
    export_filename = "journey-funnel"
    columns = [
        Column("scheme_label", label=_("Stages")),
        Column("label", label=_("Stage")),
        NumberColumn("contacts", label=_("Contacts now")),
        NumberColumn("reached", label=_("Reached")),
        Column("conversion", label=_("Conversion (%)")),
        NumberColumn("entered", label=_("Entered in the period")),
        Column("median_days", label=_("Median days")),
    ]
    list_export = [
        "scheme",
        "stage",
        "label",
        "contacts",
        "reached",
        "conversion",
        "entered",
        "median_days",
        "timed",
    ]
    export_headings = {
        "scheme": _("Stages"),
        "stage": _("Stage key"),
        "label": _("Stage"),
        "contacts": _("Contacts now"),
        "reached": _("Reached (now at this stage or later)"),
        "conversion": _("Conversion from the previous stage (%)"),
        "entered": _("Entered in the period"),
        "median_days": _("Median days from the previous stage"),
        "timed": _("Contacts in the median"),
    }

    def get_rows(self, start: date, end: date) -> list:
        labels = {"lifecycle": _("Lifecycle"), "journey": _("Journey")}
        rows = [*funnel.lifecycle_funnel(start, end), *funnel.journey_funnel(start, end)]
        for row in rows:
            row.scheme_label = labels[row.scheme]
        return rows

    def get_report_context(self, start: date, end: date) -> dict:
        rows = self.object_list
        lifecycle = [r for r in rows if r.scheme == "lifecycle"]
        journey = [r for r in rows if r.scheme == "journey"]
        return {
            "charts": [
                charts.bars(
                    "wj-chart-lifecycle",
                    _("Contacts who reached each lifecycle stage"),
                    _(
                        "Contacts now at a lifecycle stage or a later one, from subscriber to "
                        "the last stage; the table adds the conversion from the previous stage."
                    ),
                    [(r.label, r.reached) for r in lifecycle],
                    [_("Stage"), _("Reached")],
                ),
                charts.bars(
                    "wj-chart-journey",
                    _("Contacts who reached each journey stage"),
                    _("Contacts now at a journey stage or a later one, awareness to advocacy."),
                    [(r.label, r.reached) for r in journey],
                    [_("Stage"), _("Reached")],
                ),
            ],
            "without_journey_stage": funnel.contacts_without_journey_stage(),
            "dropoff": dropoff_context(start, end),
        }


def dropoff_context(start: date, end: date) -> dict:
    exits = dashboard.exit_pages(start, end)
    forms = dashboard.form_pages(start, end)
    for row in forms:
        row.values["abandonment"] = percent(row.get("abandoned"), row.get("page_sessions"))
    figures = dashboard.figures(start, end)
    return {
        "exits": exits,
        "forms": forms,
        "carts": figures.carts,
        "carts_abandoned": figures.carts_abandoned,
        "cart_abandonment_rate": figures.cart_abandonment_rate,
        "exits_chart": charts.bars(
            "wj-chart-exits",
            _("Where sessions end"),
            _("Pages that were the last page of a session, most exits first."),
            [(row.label, row.get("exits")) for row in exits],
            [_("Page"), _("Exits")],
        ),
    }


class DropOffView(JourneyReportView):
    """The exit pages as an exportable listing (the funnel page shows them too)."""

    page_title = _("Drop-off points")
    header_icon = "logout"
    permission = FUNNEL_PERMISSION
    index_url_name = "wagtail_journey_dropoff"
    index_results_url_name = "wagtail_journey_dropoff_results"
    results_template_name = "wagtail_journey/admin/reports/dropoff_results.html"
    export_filename = "journey-drop-off"
    columns = [
        Column("label", label=_("Page")),
        NumberColumn("exits", label=_("Sessions that ended here")),
        NumberColumn("page_sessions", label=_("Sessions that saw the page")),
        Column("exit_rate", label=_("Exit rate (%)")),
    ]
    list_export = ["label", "exits", "page_sessions", "exit_rate"]
    export_headings = {
        "label": _("Page"),
        "exits": _("Sessions that ended here"),
        "page_sessions": _("Sessions that saw the page"),
        "exit_rate": _("Exit rate (%)"),
    }

    def get_rows(self, start: date, end: date) -> list:
        rows = dashboard.exit_pages(start, end, n=100)
        for row in rows:
            row.values.setdefault("page_sessions", 0)
            row.values["exit_rate"] = row.rate("exits", "page_sessions")
        return rows

    def get_report_context(self, start: date, end: date) -> dict:
        return {"dropoff": dropoff_context(start, end)}
