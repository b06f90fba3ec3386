"""The Audience report: anonymous daily page views and unique visitors.

Thin glue around :mod:`wagtail_journey.tracking.audience`: Wagtail's
``ReportView`` gives the standard header, filters, pagination and CSV/XLSX
export; the numbers come from the functions the tests call. Readable with
the ``view`` permission of *daily page statistic* (Settings → Groups).
"""

from __future__ import annotations

from datetime import date, datetime

import django_filters
import swapper
from django.db.models import QuerySet
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.tables import Column, NumberColumn, TitleColumn
from wagtail.admin.views.reports import ReportView

from wagtail_journey.admin.exports import FormulaSafeExportMixin
from wagtail_journey.models import DailyPageStat
from wagtail_journey.tracking import audience

Page = swapper.load_model("wagtailcore", "Page")

PERMISSION = "wagtail_journey.view_dailypagestat"


def _pages_with_statistics(request) -> QuerySet:
    # One semi-join; only pages that have anonymous counts are worth choosing.
    return Page.objects.filter(pk__in=DailyPageStat.objects.values("page_id")).order_by("title")


def local_day(value: datetime | None) -> date | None:
    """The date the editor typed: the range field made it aware in the *current* time zone.

    Reading it back in that same zone gives the typed date, which the report
    then reads as a site-local day (see :mod:`wagtail_journey.tracking.audience`).
    """
    if value is None:
        return None
    return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()


class AudienceFilterSet(WagtailFilterSet):
    day = django_filters.DateFromToRangeFilter(label=_("Day"), widget=DateRangePickerWidget)
    page = django_filters.ModelChoiceFilter(label=_("Page"), queryset=_pages_with_statistics)

    class Meta:
        model = DailyPageStat
        fields = ["day", "page"]

    def __init__(self, data=None, *args, **kwargs):
        # Without dates, the last 30 days: shown in the form, and not an "active filter".
        start, end = audience.default_period()
        if data is not None and not (data.get("day_from") or data.get("day_to")):
            data = data.copy()
            data["day_from"], data["day_to"] = start.isoformat(), end.isoformat()
        super().__init__(data, *args, **kwargs)
        self.form.fields["day"].initial = [start, end]


class AudienceReportView(FormulaSafeExportMixin, ReportView):
    page_title = _("Audience")
    header_icon = "view"
    results_template_name = "wagtail_journey/admin/audience_results.html"
    filterset_class = AudienceFilterSet
    index_url_name = "wagtail_journey_audience"
    index_results_url_name = "wagtail_journey_audience_results"
    model = DailyPageStat
    permission_required = "view"  # without it: PermissionDenied, which Wagtail redirects
    paginate_by = 50
    columns = [
        Column("day", label=_("Day")),
        TitleColumn(
            "page_title",
            label=_("Page"),
            get_url=lambda row: reverse("wagtailadmin_pages:edit", args=[row["page_id"]]),
        ),
        NumberColumn("views", label=_("Anonymous page views")),
        NumberColumn("visitors", label=_("Unique visitors")),
    ]
    list_export = ["day", "page_id", "page_title", "views", "visitors"]
    export_headings = {
        "day": _("Day"),
        "page_id": _("Page ID"),
        "page_title": _("Page"),
        "views": _("Anonymous page views"),
        "visitors": _("Unique visitors"),
    }

    @cached_property
    def period(self) -> tuple:
        """(start, end, page id) read from the filters; the default period if invalid."""
        cleaned = self.filters.form.cleaned_data if self.filters.is_valid() else {}
        days = cleaned.get("day")  # a slice of datetimes (start of day, end of day)
        start, end = audience.clamp_period(
            local_day(days.start if days else None), local_day(days.stop if days else None)
        )
        page = cleaned.get("page")
        return start, end, page.pk if page else None

    def get_filtered_queryset(self):
        return audience.page_day_rows(*self.period)

    def get_filename(self) -> str:
        start, end, _page = self.period
        return f"audience-{start.isoformat()}-{end.isoformat()}"

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        if not self.is_export:
            summary = audience.summary(*self.period)
            page = self.filters.form.cleaned_data.get("page") if self.filters.is_valid() else None
            context.update(summary=summary, chart=chart(summary), page_filter=page)
        return context


def chart(summary: audience.AudienceSummary, height: int = 60, bar_width: int = 8) -> dict:
    """Bar geometry for a small inline SVG: oldest day on the left, no script or asset."""
    scale = height / summary.busiest
    bars = []
    for i, day in enumerate(reversed(summary.days)):
        per_visitor = day.consented_views + day.audience_views
        anonymous_height = round(day.anonymous_views * scale, 2)
        per_visitor_height = round(per_visitor * scale, 2)
        bars.append(
            {
                "day": day.day,
                "x": i * (bar_width + 2),
                "anonymous": day.anonymous_views,
                "per_visitor": per_visitor,
                "anonymous_y": round(height - anonymous_height, 2),
                "anonymous_height": anonymous_height,
                "per_visitor_y": round(height - anonymous_height - per_visitor_height, 2),
                "per_visitor_height": per_visitor_height,
            }
        )
    return {
        "bars": bars,
        "bar_width": bar_width,
        "height": height,
        "width": max(1, len(bars) * (bar_width + 2)),
    }


class AudienceMenuItem(MenuItem):
    def is_shown(self, request) -> bool:
        return request.user.has_perm(PERMISSION)


def menu_item(order: int) -> MenuItem:
    return AudienceMenuItem(
        _("Audience"),
        reverse("wagtail_journey_audience"),
        name="audience",
        icon_name="view",
        order=order,
    )


def permissions() -> QuerySet:
    """Only *view* is meaningful: the counts are written by page views, never by hand."""
    from django.contrib.auth.models import Permission

    app_label, codename = PERMISSION.split(".")
    return Permission.objects.filter(content_type__app_label=app_label, codename=codename)


def urls() -> list:
    return [
        path("journey/audience/", AudienceReportView.as_view(), name="wagtail_journey_audience"),
        path(
            "journey/audience/results/",
            AudienceReportView.as_view(results_only=True),
            name="wagtail_journey_audience_results",
        ),
    ]
