"""URLs, Reports-menu items and group permissions of the journey reports."""

from __future__ import annotations

from django.db.models import QuerySet
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from wagtail_journey.admin.attribution import AttributionView
from wagtail_journey.admin.dashboard import DashboardView
from wagtail_journey.admin.funnel import DropOffView, FunnelView
from wagtail_journey.admin.journey_map import JourneyMapView
from wagtail_journey.admin.landing_pages import LandingPagesView
from wagtail_journey.admin.reports import (
    FUNNEL_PERMISSION,
    TRAFFIC_PERMISSION,
    PermissionMenuItem,
)

#: (url part, view, URL name, menu label or None when not in the menu, icon).
REPORTS = [
    ("dashboard", DashboardView, "wagtail_journey_dashboard", _("Journey dashboard"), "view"),
    (
        "landing-pages",
        LandingPagesView,
        "wagtail_journey_landing_pages",
        _("Landing pages"),
        "doc-full",
    ),
    ("attribution", AttributionView, "wagtail_journey_attribution", _("Attribution"), "link"),
    ("funnel", FunnelView, "wagtail_journey_funnel", _("Funnel and drop-off"), "order-down"),
    ("journey-map", JourneyMapView, "wagtail_journey_journey_map", _("Journey map"), "site"),
    ("drop-off", DropOffView, "wagtail_journey_dropoff", None, "logout"),
]


def urls() -> list:
    patterns = []
    for part, view, name, _label, _icon in REPORTS:
        patterns += [
            path(f"journey/reports/{part}/", view.as_view(), name=name),
            path(
                f"journey/reports/{part}/results/",
                view.as_view(results_only=True),
                name=f"{name}_results",
            ),
        ]
    return patterns


def menu_item_hooks() -> list:
    """One ``register_reports_menu_item`` hook per report shown in the Reports menu."""

    def hook(i: int, view, name: str, label, icon: str):
        return lambda: PermissionMenuItem(
            label,
            reverse(name),
            name=name.replace("_", "-"),
            icon_name=icon,
            order=900 + i,
            permission=view.permission,
        )

    return [
        hook(i, view, name, label, icon)
        for i, (_part, view, name, label, icon) in enumerate(REPORTS)
        if label is not None
    ]


def permissions() -> QuerySet:
    """The two report families' permissions, shown in Settings → Groups."""
    from django.contrib.auth.models import Permission

    codenames = [p.split(".")[1] for p in (TRAFFIC_PERMISSION, FUNNEL_PERMISSION)]
    return Permission.objects.filter(
        content_type__app_label="wagtail_journey", codename__in=codenames
    )
