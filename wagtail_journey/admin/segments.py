"""Segments in the Wagtail admin: listing, edit form with a live count,
inspect page with members, rebuild and CSV import (thin glue)."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError
from django.db.models import Count
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import re_path
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST
from wagtail.admin.panels import FieldPanel, FieldRowPanel, HelpPanel, ObjectList
from wagtail_modeladmin.views import CreateView, DeleteView, EditView

from wagtail_journey.admin.base import JourneyModelAdmin
from wagtail_journey.admin.base_form import JourneyAdminForm
from wagtail_journey.admin.display import when
from wagtail_journey.admin.filters import labelled_filter
from wagtail_journey.admin.inspect import ReadableInspectView
from wagtail_journey.models import Segment
from wagtail_journey.segment_rules import RuleError, describe_rules
from wagtail_journey.segments import (
    database_problem,
    import_static_csv,
    materialise_segment,
    preview_count,
    rebuild_segment,
    segment_problem,
)


def _can_edit_segments(user) -> bool:
    return user.has_perm("wagtail_journey.change_segment") or user.has_perm(
        "wagtail_journey.add_segment"
    )


@require_POST
def live_count(request):
    """JSON count of the contacts the rules being edited would match."""
    if not _can_edit_segments(request.user):
        raise PermissionDenied
    field = Segment._meta.get_field("rules").formfield()
    try:
        raw = field.widget.value_from_datadict(request.POST, request.FILES, "rules")
    except (KeyError, ValueError, TypeError):
        return JsonResponse({"count": None, "error": _("The rules could not be read.")})
    try:
        rules = field.clean(raw)
        match = request.POST.get("match", "all")
        count = preview_count(rules, "any" if match == "any" else "all")
    except ValidationError:
        # StreamField errors are per block ("Validation error in StreamBlock"):
        # the form shows them on save; while typing, say what to do instead.
        return JsonResponse(
            {"count": None, "error": _("Complete the rules to see how many contacts match.")}
        )
    except RuleError as exc:
        return JsonResponse({"count": None, "error": str(exc)})
    except DatabaseError as exc:
        return JsonResponse({"count": None, "error": database_problem(exc)})
    return JsonResponse(
        {
            "count": count,
            "label": ngettext(
                "%(count)s contact matches these rules.",
                "%(count)s contacts match these rules.",
                count,
            )
            % {"count": count},
        }
    )


class CsvImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV file"),
        help_text=gettext_lazy("One email per row (first column, or a column named email)."),
    )


class ProblemPanel(HelpPanel):
    """Why the segment being edited cannot be computed (nothing when fine)."""

    class BoundPanel(HelpPanel.BoundPanel):
        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            segment = self.instance
            context["problem"] = (segment_problem(segment) or segment.error) if segment.pk else ""
            return context


class MaterialiseMixin:
    """Saving a segment computes its members (inline, or in a task when large),
    so the listing never shows 0 members for a segment that has some."""

    def form_valid(self, form):
        response = super().form_valid(form)
        outcome = materialise_segment(self.instance)
        if outcome.problem:
            messages.error(self.request, outcome.problem)
        elif outcome.deferred:
            messages.info(self.request, _("Its members are being computed in the background."))
        return response


class SegmentCreateView(MaterialiseMixin, CreateView):
    pass


class SegmentEditView(MaterialiseMixin, EditView):
    pass


class SegmentInspectView(ReadableInspectView):
    def get_template_names(self):
        return ["wagtail_journey/admin/segment_inspect.html"]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        segment = self.instance
        problem = segment_problem(segment)
        context.update(
            segment=segment,
            problem=problem or segment.error,
            member_count=segment.memberships.count(),
            rules_text=describe_rules(segment.rules, segment.match) if segment.is_dynamic else [],
            members=(
                []
                if problem
                else segment.memberships.select_related("contact").order_by("-entered_at")[:50]
            ),
            can_edit=_can_edit_segments(self.request.user),
            import_form=CsvImportForm(),
        )
        return context


class SegmentDeleteView(DeleteView):
    """A segment a flow is triggered by or aims at is not deleted: the editor is
    told which flows use it (their contacts would never enter or convert)."""

    def post(self, request, *args, **kwargs):
        from wagtail_journey.flows.usage import flows_using

        names = [f.name for f in flows_using(segments=[self.instance.pk])][:5]
        if names:
            messages.error(
                request,
                _(
                    "This segment is used by the flows %(names)s (trigger or goal): change "
                    "them (and publish them) before deleting it."
                )
                % {"names": ", ".join(f"“{n}”" for n in names)},
            )
            return redirect(self.index_url)
        return super().post(request, *args, **kwargs)


class SegmentAdmin(JourneyModelAdmin):
    model = Segment
    empty_value_display = "—"  # as the inspect pages and custom columns
    menu_label = gettext_lazy("Segments")
    menu_icon = "group"
    list_display = ("name", "kind_display", "members", "last_rebuilt", "problem_display")
    inspect_view_fields = ("name", "description", "kind", "active", "last_rebuilt_at")
    list_filter = (
        labelled_filter("kind", gettext_lazy("kind"), lambda: Segment.Kind.choices),
        "active",
    )
    search_fields = ("name",)
    inspect_view_enabled = True
    inspect_view_class = SegmentInspectView
    create_view_class = SegmentCreateView
    edit_view_class = SegmentEditView
    delete_view_class = SegmentDeleteView
    form_view_extra_js = ["wagtail_journey/js/segment-live-count.js"]
    panels = [
        ProblemPanel(template="wagtail_journey/admin/segment_problem_panel.html"),
        FieldRowPanel([FieldPanel("name"), FieldPanel("kind"), FieldPanel("active")]),
        FieldPanel("description"),
        FieldPanel("match"),
        FieldPanel("rules"),
        HelpPanel(template="wagtail_journey/admin/live_count_panel.html"),
    ]
    edit_handler = ObjectList(panels, base_form_class=JourneyAdminForm)

    def get_queryset(self, request):
        # Counted from the membership rows shown on the segment's page, so the
        # two always agree (the stored count is a cache for code, not for people).
        return super().get_queryset(request).annotate(live_members=Count("memberships"))

    def kind_display(self, obj):
        return capfirst(obj.get_kind_display())

    kind_display.short_description = gettext_lazy("Kind")
    kind_display.admin_order_field = "kind"

    def last_rebuilt(self, obj):
        return when(obj.last_rebuilt_at) or "—"

    last_rebuilt.short_description = gettext_lazy("Last rebuilt")
    last_rebuilt.admin_order_field = "last_rebuilt_at"

    def members(self, obj):
        return obj.live_members

    members.short_description = gettext_lazy("Members")
    members.admin_order_field = "live_members"

    def problem_display(self, obj):
        return segment_problem(obj) or obj.error or "—"

    problem_display.short_description = gettext_lazy("Problem")

    def get_admin_urls_for_registration(self):
        return (
            *super().get_admin_urls_for_registration(),
            re_path(r"^journey/segments/count/$", live_count, name="wagtail_journey_segment_count"),
            re_path(
                r"^journey/segments/(?P<pk>\d+)/rebuild/$",
                rebuild_view,
                name="wagtail_journey_segment_rebuild",
            ),
            re_path(
                r"^journey/segments/(?P<pk>\d+)/import/$",
                import_view,
                name="wagtail_journey_segment_import",
            ),
        )


def _inspect_url(segment):
    from django.urls import reverse

    return reverse("wagtail_journey_segment_modeladmin_inspect", args=[segment.pk])


@require_POST
def rebuild_view(request, pk):
    if not request.user.has_perm("wagtail_journey.change_segment"):
        raise PermissionDenied
    segment = get_object_or_404(Segment, pk=pk)
    try:
        entered, left = rebuild_segment(segment)
    except RuleError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Segment rebuilt. Entered: %(entered)s. Left: %(left)s.")
            % {"entered": entered, "left": left},
        )
    return redirect(_inspect_url(segment))


@require_POST
def import_view(request, pk):
    if not request.user.has_perm("wagtail_journey.change_segment"):
        raise PermissionDenied
    segment = get_object_or_404(Segment, pk=pk, kind=Segment.Kind.STATIC)
    form = CsvImportForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose a CSV file to import."))
        return redirect(_inspect_url(segment))
    data = form.cleaned_data["file"].read(10 * 1024 * 1024 + 1)
    if len(data) > 10 * 1024 * 1024:
        messages.error(request, _("The file is larger than 10 MB."))
        return redirect(_inspect_url(segment))
    try:
        added, unknown = import_static_csv(segment, data)
    except UnicodeDecodeError:
        messages.error(request, _("The file is not UTF-8 text."))
        return redirect(_inspect_url(segment))
    messages.success(
        request,
        ngettext(
            "%(added)s contact added.",
            "%(added)s contacts added.",
            added,
        )
        % {"added": added}
        + " "
        + ngettext(
            "%(unknown)s address is not a contact.",
            "%(unknown)s addresses are not contacts.",
            len(unknown),
        )
        % {"unknown": len(unknown)},
    )
    return redirect(_inspect_url(segment))
