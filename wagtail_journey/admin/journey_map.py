"""The journey map report: what contacts did next after a chosen starting point."""

from __future__ import annotations

from datetime import date

import django_filters
import swapper
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.tables import Column, NumberColumn

from wagtail_journey.admin import charts
from wagtail_journey.admin.reports import FUNNEL_PERMISSION, JourneyReportView, PeriodFilterSet
from wagtail_journey.models import Segment
from wagtail_journey.reports.journey_map import STEPS, WINDOW_DAYS, journey_map
from wagtail_journey.reports.moments import best_customers_before_first_order, moments

MOMENT_LABELS = {
    "first_submission": _("Days from becoming a contact to the first form submission"),
    "first_order": _("Days from becoming a contact to the first order"),
    "repeat_order": _("Days from the first order to the repeat order"),
}

START_KINDS = [
    ("email_opened", _("An email opened")),
    ("email_clicked", _("An email link clicked")),
    ("page_view", _("A page viewed")),
    ("form_submitted", _("A form submitted")),
    ("cart_updated", _("A cart updated")),
    ("order_completed", _("An order")),
]


def _pages(request):
    Page = swapper.load_model("wagtailcore", "Page")
    return Page.objects.filter(depth__gt=1).order_by("title")


class JourneyMapFilterSet(PeriodFilterSet):
    start = django_filters.ChoiceFilter(
        label=_("Starting point"), choices=START_KINDS, empty_label=None, method="keep"
    )
    page = django_filters.ModelChoiceFilter(
        label=_("Page (for a page viewed)"), queryset=_pages, method="keep"
    )
    segment = django_filters.ModelChoiceFilter(
        label=_("Segment"), queryset=Segment.objects.order_by("name"), method="keep"
    )
    source = django_filters.CharFilter(label=_("First-touch source"), method="keep")

    def keep(self, queryset, name, value):
        return queryset


class JourneyMapView(JourneyReportView):
    page_title = _("Journey map")
    header_icon = "site"
    permission = FUNNEL_PERMISSION
    filterset_class = JourneyMapFilterSet
    index_url_name = "wagtail_journey_journey_map"
    index_results_url_name = "wagtail_journey_journey_map_results"
    results_template_name = "wagtail_journey/admin/reports/journey_map_results.html"
    export_filename = "journey-map"
    paginate_by = 100
    columns = [
        NumberColumn("step", label=_("Step")),
        Column("source", label=_("From")),
        Column("target", label=_("To")),
        NumberColumn("contacts", label=_("Contacts")),
        Column("median_hours", label=_("Median hours")),
    ]
    list_export = ["step", "source", "target", "contacts", "median_hours"]
    export_headings = {
        "step": _("Step"),
        "source": _("From"),
        "target": _("To"),
        "contacts": _("Contacts"),
        "median_hours": _("Median hours"),
    }

    @cached_property
    def choice(self) -> dict:
        cleaned = self.filters.form.cleaned_data if self.filters.is_valid() else {}
        return {
            "kind": cleaned.get("start") or "email_opened",
            "page": cleaned.get("page"),
            "segment": cleaned.get("segment"),
            "source": (cleaned.get("source") or "").strip()[:128] or None,
        }

    @cached_property
    def result(self):
        start, end = self.period
        c = self.choice
        page = c["page"] if c["kind"] == "page_view" else None
        return journey_map(
            start,
            end,
            c["kind"],
            page_id=page.pk if page else None,
            segment_id=c["segment"].pk if c["segment"] else None,
            source=c["source"],
        )

    def get_rows(self, start: date, end: date) -> list:
        return self.result.edges

    def get_report_context(self, start: date, end: date) -> dict:
        result = self.result
        steps = []
        for i, nodes in enumerate(result.steps[1:], start=1):
            steps.append(
                charts.bars(
                    f"wj-chart-step-{i}",
                    _("Step %(step)s") % {"step": i},
                    _("What the contacts did at step %(step)s; %(stopped)s stopped before it.")
                    % {"step": i, "stopped": result.stopped[i - 1]},
                    nodes[:10],
                    [_("Touchpoint"), _("Contacts")],
                )
            )
        moment_charts = [
            charts.bars(
                f"wj-chart-{m.key}",
                MOMENT_LABELS[m.key],
                _(
                    "%(contacts)s contacts reached this moment in the period; "
                    "median: %(median)s days."
                )
                % {
                    "contacts": m.contacts,
                    "median": "—" if m.median_days is None else m.median_days,
                },
                m.buckets,
                [_("Days"), _("Contacts")],
            )
            for m in moments(start, end)
        ]
        best, before = best_customers_before_first_order()
        return {
            "moment_charts": moment_charts,
            "best_chart": charts.bars(
                "wj-chart-best-customers",
                _("What the best customers did before their first order"),
                _(
                    "The top tenth of customers by orders (%(count)s contacts): how many of them "
                    "did each of these before (or on the day of) their first order."
                )
                % {"count": best},
                before,
                [_("Touchpoint"), _("Contacts")],
            ),
            "map": result,
            "start_label": result.steps[0][0][0] if result.steps else "",
            "step_charts": steps,
            "steps_count": STEPS,
            "window_days": WINDOW_DAYS,
        }
