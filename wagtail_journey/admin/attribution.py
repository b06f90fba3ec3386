"""The attribution report: conversions credited to channels by five models, side by side."""

from __future__ import annotations

from datetime import date

import django_filters
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.tables import Column

from wagtail_journey.admin import charts
from wagtail_journey.admin.reports import TRAFFIC_PERMISSION, JourneyReportView, PeriodFilterSet
from wagtail_journey.reports.attribution import MODELS, credits

MODEL_LABELS = {
    "first": _("First touch"),
    "last": _("Last touch"),
    "linear": _("Linear"),
    "u_shaped": _("U-shaped (40/20/40)"),
    "time_decay": _("Time decay"),
}
CONVERSIONS = [("order", _("Orders")), ("submission", _("Form submissions"))]


class AttributionFilterSet(PeriodFilterSet):
    conversion = django_filters.ChoiceFilter(
        label=_("Conversions"), choices=CONVERSIONS, empty_label=None, method="keep"
    )

    def keep(self, queryset, name, value):
        return queryset


class AttributionView(JourneyReportView):
    page_title = _("Attribution")
    header_icon = "link"
    permission = TRAFFIC_PERMISSION
    filterset_class = AttributionFilterSet
    index_url_name = "wagtail_journey_attribution"
    index_results_url_name = "wagtail_journey_attribution_results"
    results_template_name = "wagtail_journey/admin/reports/attribution_results.html"
    export_filename = "journey-attribution"
    columns = [
        Column("channel", label=_("Source / medium / campaign")),
        *[Column(m, label=MODEL_LABELS[m]) for m in MODELS],
    ]
    list_export = ["channel", *MODELS, *[f"{m}_value" for m in MODELS]]
    export_headings = {
        "channel": _("Source / medium / campaign"),
        **{m: MODEL_LABELS[m] for m in MODELS},
        **{f"{m}_value": _("Value: %(model)s") % {"model": MODEL_LABELS[m]} for m in MODELS},
    }

    @cached_property
    def conversion(self) -> str:
        cleaned = self.filters.form.cleaned_data if self.filters.is_valid() else {}
        return cleaned.get("conversion") or "order"

    def get_rows(self, start: date, end: date) -> list:
        return credits(start, end, self.conversion)

    def get_report_context(self, start: date, end: date) -> dict:
        rows = self.object_list[:10]
        label = dict(CONVERSIONS)[self.conversion]
        return {
            "conversion_label": label,
            "chart": charts.bars(
                "wj-chart-attribution",
                _("Conversions by channel (linear model)"),
                _(
                    "Each conversion's credit shared evenly by the sources that brought the "
                    "contact in the 90 days before it; the table compares the five models."
                ),
                [(row["channel"], row["linear"]) for row in rows],
                [_("Source / medium / campaign"), _("Linear")],
            ),
        }
