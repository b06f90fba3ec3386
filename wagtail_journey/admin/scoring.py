"""Scoring rules and lifecycle transitions in the Wagtail admin (thin glue)."""

from django import forms
from django.contrib import messages
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel, ObjectList
from wagtail_modeladmin.views import CreateView, EditView

from wagtail_journey.admin.base import JourneyModelAdmin
from wagtail_journey.admin.base_form import JourneyAdminForm
from wagtail_journey.admin.filters import labelled_filter
from wagtail_journey.admin.scoring_form import KindInput, ScoringRuleForm
from wagtail_journey.kinds import kind_choices, kind_label
from wagtail_journey.models import LifecycleTransition, ScoringRule
from wagtail_journey.stages import lifecycle_choices


class WarnUnknownKind:
    """Saving a rule on a kind never recorded warns (saved all the same)."""

    def form_valid(self, form):
        response = super().form_valid(form)
        warning = form.unknown_kind_warning()
        if warning:
            messages.warning(self.request, warning)
        return response


class RuleCreateView(WarnUnknownKind, CreateView):
    pass


class RuleEditView(WarnUnknownKind, EditView):
    pass


class ScoringRuleAdmin(JourneyModelAdmin):
    model = ScoringRule
    empty_value_display = "—"  # as the inspect pages and custom columns
    menu_label = _("Scoring rules")
    menu_icon = "pick"
    list_display = ("name", "kind_display", "points", "cap", "active", "problem_display")
    list_filter = ("active", labelled_filter("kind", _("kind"), kind_choices))
    search_fields = ("name", "kind")
    create_view_class = RuleCreateView
    edit_view_class = RuleEditView
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
    edit_handler = ObjectList(panels, base_form_class=ScoringRuleForm)

    def kind_display(self, obj):
        return kind_label(obj.kind)

    kind_display.short_description = _("Touchpoint kind")
    kind_display.admin_order_field = "kind"

    def cap(self, obj):
        if obj.cap_count is None:
            return "—"
        return f"{obj.cap_count} {obj.get_cap_period_display()}"

    cap.short_description = _("Cap")

    def problem_display(self, obj):
        return obj.problem or "—"

    problem_display.short_description = _("Problem")


class LifecycleTransitionAdmin(JourneyModelAdmin):
    model = LifecycleTransition
    empty_value_display = "—"  # as the inspect pages and custom columns
    menu_label = _("Lifecycle transitions")
    menu_icon = "arrow-right"
    list_display = ("__str__", "stage_display", "min_score", "kind_display", "active")
    panels = [
        FieldPanel("stage", widget=forms.Select(choices=lifecycle_choices)),
        FieldRowPanel(
            [
                FieldPanel("min_score"),
                FieldPanel(
                    "kind",
                    widget=KindInput(),
                    help_text=_("Pick a suggestion, or type the name of a custom event."),
                ),
            ]
        ),
        FieldPanel("active"),
    ]
    edit_handler = ObjectList(panels, base_form_class=JourneyAdminForm)

    def stage_display(self, obj):
        return dict(lifecycle_choices()).get(obj.stage, obj.stage)

    stage_display.short_description = _("Stage")
    stage_display.admin_order_field = "stage"

    def kind_display(self, obj):
        return kind_label(obj.kind) if obj.kind else "—"

    kind_display.short_description = _("Or when this touchpoint arrives")
