"""The journey reports' shared admin glue: the period filter, permission
checks, headline cards and menu items.

Each report is a Wagtail ``ReportView`` (header, filters, pagination and the
CSV/XLSX export of its listing through Wagtail's export machinery); the
numbers come from :mod:`wagtail_journey.reports`, the same functions the
tests call. A report family is readable with one permission on
``DailyMetric`` (Settings → Groups): *traffic* (dashboard, landing pages) and
*funnel* (funnel, drop-off).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import django_filters
from django.http import HttpResponseBadRequest
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.menu import MenuItem
from wagtail.admin.views.reports import ReportView

from wagtail_journey.admin.audience import local_day
from wagtail_journey.admin.exports import FormulaSafeExportMixin
from wagtail_journey.admin.guard import has_nul
from wagtail_journey.models import DailyMetric
from wagtail_journey.reports.dashboard import previous_period
from wagtail_journey.tracking import audience

TRAFFIC_PERMISSION = "wagtail_journey.view_traffic_reports"
FUNNEL_PERMISSION = "wagtail_journey.view_funnel_reports"


class PeriodFilterSet(WagtailFilterSet):
    day = django_filters.DateFromToRangeFilter(label=_("Period"), widget=DateRangePickerWidget)

    class Meta:
        model = DailyMetric
        fields = ["day"]

    def __init__(self, data=None, *args, **kwargs):
        # Without dates, the last 30 days: shown in the form, not an "active filter".
        start, end = audience.default_period()
        if data is not None and not (data.get("day_from") or data.get("day_to")):
            data = data.copy()
            data["day_from"], data["day_to"] = start.isoformat(), end.isoformat()
        super().__init__(data, *args, **kwargs)
        self.form.fields["day"].initial = [start, end]


class JourneyReportView(FormulaSafeExportMixin, ReportView):
    """A report over a period of site-local days, readable with ``permission``.

    Its CSV export goes through the package's formula-safe writer; a request
    carrying a NUL byte is refused as everywhere in the package's admin.
    """

    permission: str = TRAFFIC_PERMISSION
    permission_required = "view"  # checked by user_has_permission below
    filterset_class = PeriodFilterSet
    model = DailyMetric
    paginate_by = 50
    header_icon = "table"

    def user_has_permission(self, permission) -> bool:
        return self.request.user.has_perm(self.permission)

    def dispatch(self, request, *args, **kwargs):
        if has_nul(request):
            return HttpResponseBadRequest(_("The request contains invalid characters."))
        return super().dispatch(request, *args, **kwargs)

    @cached_property
    def period(self) -> tuple[date, date]:
        """(start, end) read from the filter; the default period when invalid or empty."""
        cleaned = self.filters.form.cleaned_data if self.filters.is_valid() else {}
        days = cleaned.get("day")
        return audience.clamp_period(
            local_day(days.start if days else None), local_day(days.stop if days else None)
        )

    @cached_property
    def previous(self) -> tuple[date, date]:
        return previous_period(*self.period)

    def get_filtered_queryset(self):
        return self.get_rows(*self.period)

    def get_rows(self, start: date, end: date) -> list:
        raise NotImplementedError

    def get_filename(self) -> str:
        start, end = self.period
        return f"{self.export_filename}-{start.isoformat()}-{end.isoformat()}"

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        if not self.is_export:
            start, end = self.period
            context.update(period_start=start, period_end=end)
            context.update(self.get_report_context(start, end))
        return context

    def get_report_context(self, start: date, end: date) -> dict:
        return {}


@dataclass
class Card:
    """A headline figure of the period beside the previous period's."""

    label: str
    value: float | int | None
    previous: float | int | None
    scope: str = ""
    unit: str = ""  # "%" for rates (compared in points)
    key: str = ""

    @property
    def delta(self) -> str:
        """The change since the previous period: +12% for counts, +1.5 pt for rates."""
        if self.value is None or self.previous is None:
            return ""
        if self.unit == "%":
            diff = round(self.value - self.previous, 1)
            return f"{diff:+g} pt"
        if not self.previous:
            return ""
        return f"{round(100 * (self.value - self.previous) / self.previous):+d}%"


class PermissionMenuItem(MenuItem):
    def __init__(self, *args, permission: str, **kwargs):
        self.permission = permission
        super().__init__(*args, **kwargs)

    def is_shown(self, request) -> bool:
        return request.user.has_perm(self.permission)
