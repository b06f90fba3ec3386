"""Statistics pages of an email template and of a broadcast (with its A/B
variants), and their CSV export. Thin glue over emails/stats.py."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin

from wagtail_journey import safe_csv
from wagtail_journey.emails import stats


class StatsView(PermissionCheckedMixin, WagtailAdminTemplateMixin, TemplateView):
    """Counts and rates for one object; ``?export=csv`` downloads the same table."""

    template_name = "wagtail_journey/admin/email_stats.html"
    page_title = _("Statistics")
    header_icon = "mail"
    any_permission_required = ["view", "add", "change"]
    model = None
    index_url_name = None
    back_url_name = None

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.object = get_object_or_404(self.model, pk=kwargs["pk"])

    def lines(self) -> list[stats.Stats]:
        raise NotImplementedError

    def get(self, request, *args, **kwargs):
        if request.GET.get("export") == "csv":
            response = HttpResponse(content_type="text/csv; charset=utf-8")
            name = slugify(str(self.object))[:40] or "stats"
            response["Content-Disposition"] = f'attachment; filename="{name}-stats.csv"'
            safe_csv.writer(response).writerows(stats.csv_rows(self.lines()))
            return response
        return super().get(request, *args, **kwargs)

    def get_page_subtitle(self):
        return str(self.object)

    def get_breadcrumbs_items(self):
        return [
            {"url": reverse(self.index_url_name), "label": self.model._meta.verbose_name_plural},
            {"url": self.back_url(), "label": str(self.object)},
            {"url": "", "label": self.page_title},
        ]

    def back_url(self) -> str:
        return reverse(self.back_url_name, args=[self.object.pk])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            object=self.object,
            lines=self.lines(),
            headings=[label for label, _q in stats.COLUMNS.values()],
            rate_headings=[label for label, _c in stats.RATES.values()],
            columns=list(stats.COLUMNS),
            back_url=self.back_url(),
            csv_url=f"{self.request.path}?export=csv",
        )
        return context


class TemplateStatsView(StatsView):
    def lines(self):
        return [stats.for_template(self.object)]


class BroadcastStatsView(StatsView):
    def lines(self):
        return stats.for_broadcast(self.object)
