"""Scoring rules and lifecycle transitions in the Wagtail admin (thin glue)."""

from django import forms
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel

from wagtail_journey.admin.base import JourneyModelAdmin
from wagtail_journey.models import LifecycleTransition, ScoringRule
from wagtail_journey.stages import lifecycle_choices


class ScoringRuleAdmin(JourneyModelAdmin):
    model = ScoringRule
    menu_label = _("Scoring rules")
    menu_icon = "pick"
    list_display = ("name", "kind", "points", "cap", "active", "problem_display")
    list_filter = ("active", "kind")
    search_fields = ("name", "kind")
    panels = [
        FieldRowPanel([FieldPanel("name"), FieldPanel("active")]),
        FieldRowPanel([FieldPanel("kind"), FieldPanel("points")]),
        MultiFieldPanel(
            [
                FieldRowPanel([FieldPanel("page"), FieldPanel("include_subpages")]),
                FieldRowPanel([FieldPanel("form"), FieldPanel("email")]),
                FieldRowPanel([FieldPanel("utm_source"), FieldPanel("utm_campaign")]),
                FieldRowPanel([FieldPanel("property_name"), FieldPanel("property_value")]),
            ],
            heading=_("Only when (optional filters)"),
        ),
        FieldRowPanel([FieldPanel("cap_count"), FieldPanel("cap_period")], heading=_("Cap")),
        FieldPanel("add_tag"),
    ]

    def cap(self, obj):
        if obj.cap_count is None:
            return "—"
        return f"{obj.cap_count} {obj.get_cap_period_display()}"

    cap.short_description = _("cap")

    def problem_display(self, obj):
        return obj.problem or "—"

    problem_display.short_description = _("problem")


class LifecycleTransitionAdmin(JourneyModelAdmin):
    model = LifecycleTransition
    menu_label = _("Lifecycle transitions")
    menu_icon = "arrow-right"
    list_display = ("__str__", "stage", "min_score", "kind", "active")
    panels = [
        FieldPanel("stage", widget=forms.Select(choices=lifecycle_choices)),
        FieldRowPanel([FieldPanel("min_score"), FieldPanel("kind")]),
        FieldPanel("active"),
    ]
