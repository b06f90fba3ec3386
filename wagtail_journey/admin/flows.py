"""Flows in the admin: the snippet (drafts, revisions, locking, publish with a
choice for contacts inside), an overview (diagram with the contacts at each
step, per-step statistics, pause/resume, manual enrolment), the enrollments
listing (remove, resume) and a dry run for a chosen contact. Thin glue over
wagtail_journey.flows; every URL is guarded by the model's permissions."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView, View
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import (
    FieldPanel,
    FieldRowPanel,
    MultiFieldPanel,
    ObjectList,
    TabbedInterface,
)
from wagtail.admin.ui.tables import Column, LiveStatusTagColumn
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.admin.widgets.button import HeaderButton
from wagtail.log_actions import log
from wagtail.snippets.views.snippets import EditView

from wagtail_journey.admin.base import JourneySnippetIndexView, JourneySnippetViewSet
from wagtail_journey.admin.email_templates import can_see_contacts
from wagtail_journey.admin.guard import guard_urls
from wagtail_journey.flows import engine, enrol, publishing, stats
from wagtail_journey.flows.dry_run import dry_run
from wagtail_journey.flows.plan import compile_plan, plan_for_revision
from wagtail_journey.flows.triggers import get_trigger
from wagtail_journey.models import Contact, Segment
from wagtail_journey.models.flows import Enrollment, EnrollmentStatus, Flow

ACTIONS = {
    "pause": gettext_lazy("Pause the flow"),
    "resume": gettext_lazy("Resume the flow"),
    "enrol": gettext_lazy("Enrol contacts"),
    "remove": gettext_lazy("Remove from the flow"),
    "resume_enrollments": gettext_lazy("Resume enrollments"),
}


class FlowForm(WagtailAdminModelForm):
    """The flow, plus what publishing does to contacts already inside (issue 12, item 4)."""

    inside = forms.ChoiceField(
        label=gettext_lazy("When you publish, contacts already in the flow"),
        choices=[
            (publishing.STAY, gettext_lazy("stay on the version they entered (the default)")),
            (publishing.MOVE, gettext_lazy("move to the same step of this version")),
        ],
        initial=publishing.STAY,
        required=False,
        widget=forms.RadioSelect,
        help_text=gettext_lazy("Nothing a contact already passed runs again either way."),
    )
    removed = forms.ChoiceField(
        label=gettext_lazy("Contacts moved while at a step this version removes"),
        choices=[
            (publishing.REMOVED_NEXT, gettext_lazy("go on to the next step that still exists")),
            (publishing.REMOVED_PAUSE, gettext_lazy("pause, for you to decide")),
            (publishing.REMOVED_EXIT, gettext_lazy("leave the flow")),
        ],
        initial=publishing.REMOVED_NEXT,
        required=False,
        widget=forms.RadioSelect,
    )


class FlowEditView(EditView):
    overview_url_name = None

    def publish_action(self):
        response = super().publish_action()
        data = getattr(self, "form", None)
        cleaned = data.cleaned_data if data is not None and hasattr(data, "cleaned_data") else {}
        counts = publishing.apply_publish(
            self.object.pk,
            self.new_revision.pk,
            cleaned.get("inside") or publishing.STAY,
            cleaned.get("removed") or publishing.REMOVED_NEXT,
        )
        if counts.get("moved") or counts.get("continued") or counts.get("paused"):
            messages.info(
                self.request,
                _("%(count)s contacts inside now follow this version.")
                % {"count": sum(counts.values())},
            )
        return response

    def get_header_buttons(self):
        buttons = super().get_header_buttons()
        url = reverse(self.overview_url_name, args=[self.object.pk])
        return [*buttons, HeaderButton(_("Overview"), url=url, icon_name="table")]


class _FlowView(PermissionCheckedMixin):
    model = Flow
    any_permission_required = ["view", "change", "add"]
    names: dict = {}

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.object = get_object_or_404(Flow, pk=kwargs["pk"])

    def can_change(self) -> bool:
        return self.permission_policy.user_has_permission(self.request.user, "change")

    def url(self, name: str, *args) -> str:
        return reverse(self.names[name], args=[self.object.pk, *args])

    def plan(self):
        """The live version's plan, else the latest draft's (not yet published)."""
        if self.object.live_revision_id:
            return plan_for_revision(self.object.live_revision_id)
        latest = self.object.get_latest_revision_as_object()
        return compile_plan(latest, self.object.latest_revision_id)


class _Page(_FlowView, WagtailAdminTemplateMixin, TemplateView):
    header_icon = "resubmit"

    def get_page_subtitle(self):
        return self.object.name

    def get_breadcrumbs_items(self):
        return [
            {"url": reverse(self.names["list"]), "label": Flow._meta.verbose_name_plural},
            {"url": reverse(self.names["edit"], args=[self.object.pk]), "label": self.object.name},
            {"url": "", "label": self.page_title},
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            flow=self.object,
            can_change=self.can_change(),
            overview_url=self.url("overview"),
            enrollments_url=self.url("enrollments"),
            dry_run_url=self.url("dry_run"),
            edit_url=reverse(self.names["edit"], args=[self.object.pk]),
        )
        return context


class OverviewView(_Page):
    template_name = "wagtail_journey/admin/flow_overview.html"
    page_title = gettext_lazy("Flow overview")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        plan = self.plan()
        numbers = stats.step_numbers(self.object)
        trigger = get_trigger(plan.trigger[0]) if plan and plan.trigger else None
        context.update(
            plan=plan,
            rows=stats.diagram(plan, numbers) if plan else [],
            starting=numbers.get("", {}).get("at", 0),
            outcomes=stats.outcomes(self.object),
            trigger=trigger.describe(plan.trigger[1]) if trigger else "",
            segments=Segment.objects.order_by("name").values_list("pk", "name"),
            act_urls={name: self.url("act", name) for name in ACTIONS},
        )
        return context


class EnrollmentsView(_Page):
    template_name = "wagtail_journey/admin/flow_enrollments.html"
    page_title = gettext_lazy("Enrollments")
    per_page = 50

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        qs = Enrollment.objects.filter(flow=self.object).select_related("contact")
        status = self.request.GET.get("status", "")
        if status.isdigit() and int(status) in EnrollmentStatus.values:
            qs = qs.filter(status=int(status))
        else:
            status = ""
        plan = self.plan()
        labels = {row.id: row.label for row in stats.diagram(plan)} if plan else {}
        page = Paginator(qs.order_by("-enrolled_at", "-pk"), self.per_page).get_page(
            self.request.GET.get("p")
        )
        for e in page:
            e.step_label = labels.get(e.step_id) or (
                _("Waiting to start") if not e.step_id else _("A step of another version")
            )
        context.update(
            page=page,
            status=status,
            statuses=EnrollmentStatus.choices,
            see_contacts=can_see_contacts(self.request.user),
            act_urls={name: self.url("act", name) for name in ACTIONS},
        )
        return context


class DryRunView(_Page):
    template_name = "wagtail_journey/admin/flow_dry_run.html"
    page_title = gettext_lazy("Dry run")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        allowed = can_see_contacts(self.request.user)
        query = (self.request.GET.get("q") or "").strip()[:100]
        found, contact, result = [], None, None
        if allowed and query:
            found = list(
                Contact.objects.filter(
                    Q(email__icontains=query)
                    | Q(first_name__icontains=query)
                    | Q(last_name__icontains=query)
                ).order_by("email")[:10]
            )
        contact_id = self.request.GET.get("contact", "")
        if allowed and contact_id.isdigit():
            contact = Contact.objects.filter(pk=contact_id).first()
        if contact is not None:
            latest = self.object.get_latest_revision_as_object()
            result = dry_run(compile_plan(latest, self.object.latest_revision_id), contact)
            subjects = _subjects({s.template_id for s in result.steps if s.template_id}, contact)
            for s in result.steps:
                s.subject = subjects.get(s.template_id, "")
        context.update(allowed=allowed, query=query, found=found, contact=contact, result=result)
        return context


def _subjects(template_ids, contact) -> dict[int, str]:
    """Each template's subject as ``contact`` would read it (the live revision)."""
    from wagtail_journey.emails.preview import preview_context
    from wagtail_journey.emails.rendering import RenderError, compiled
    from wagtail_journey.models import EmailTemplate

    subjects = {}
    for template in EmailTemplate.objects.filter(pk__in=template_ids).select_related(
        "live_revision"
    ):
        try:
            rendered = compiled(template.live_revision).personalise(preview_context(contact), None)
            subjects[template.pk] = rendered.subject
        except (RenderError, AttributeError):
            subjects[template.pk] = template.subject
    return subjects


class ActionView(_FlowView, View):
    """POST only: pause/resume the flow, enrol contacts, remove or resume enrollments."""

    http_method_names = ["post"]
    any_permission_required = ["change"]

    def post(self, request, pk, action):
        flow = self.object
        back = request.POST.get("next") or ""
        if not back.startswith("/") or back.startswith("//"):
            back = self.url("overview")
        if action not in ACTIONS:
            return redirect(back)
        if action in ("pause", "resume"):
            Flow.objects.filter(pk=flow.pk).update(paused=action == "pause")
            if action == "resume":
                engine.schedule_sweep()
            messages.success(
                request,
                _("The flow is paused.") if action == "pause" else _("The flow runs again."),
            )
        elif action == "enrol":
            if not flow.live:
                messages.error(
                    request, _("Publish the flow first: an unpublished flow enrols nobody.")
                )
                return redirect(back)
            count = self._enrol(request, flow)
            if count is None:
                return redirect(back)
            messages.success(request, _("%(count)s contacts enrolled.") % {"count": count})
        else:
            ids = [int(i) for i in request.POST.getlist("enrollment") if i.isdigit()][:1000]
            ids = list(
                Enrollment.objects.filter(flow=flow, pk__in=ids).values_list("pk", flat=True)
            )
            count = enrol.remove(ids) if action == "remove" else engine.resume(ids)
            messages.success(request, _("%(count)s enrollments changed.") % {"count": count})
        # The title is the flow's name: no personal data in the audit log.
        log(flow, f"wagtail_journey.flow.{action}", user=request.user, title=flow.name)
        return redirect(back)

    def _enrol(self, request, flow) -> int | None:
        from wagtail_journey.identity import normalize_email
        from wagtail_journey.segments import segment_queryset

        segment_id = request.POST.get("segment", "")
        email = (request.POST.get("email") or "").strip()[:254]
        if segment_id.isdigit():
            segment = Segment.objects.filter(pk=segment_id).first()
            if segment is None:
                messages.error(request, _("This segment no longer exists."))
                return None
            return enrol.enrol_many(flow, segment_queryset(segment), source="manual")
        if email:
            contact = Contact.objects.filter(email=normalize_email(email)).first()
            if contact is None:
                messages.error(request, _("No contact has this address."))
                return None
            return 1 if enrol.enrol(flow, contact, source="manual") else 0
        messages.error(request, _("Choose a segment or enter a contact's address."))
        return None


class PresetsView(PermissionCheckedMixin, WagtailAdminTemplateMixin, TemplateView):
    """The presets, each created as drafts (flow and emails) with one click."""

    model = Flow
    permission_required = "add"
    template_name = "wagtail_journey/admin/flow_presets.html"
    page_title = gettext_lazy("Start from a preset")
    header_icon = "resubmit"
    names: dict = {}

    def get_context_data(self, **kwargs):
        from wagtail_journey.flows.presets import PRESETS

        context = super().get_context_data(**kwargs)
        context["presets"] = PRESETS.values()
        return context

    def post(self, request, *args, **kwargs):
        from django.utils.translation import get_language

        from wagtail_journey.flows.presets import PresetError, create_from_preset

        try:
            flow = create_from_preset(request.POST.get("preset", ""), language=get_language())
        except PresetError as exc:
            messages.error(request, str(exc))
            return redirect(reverse(self.names["presets"]))
        log(flow, "wagtail.create", user=request.user, title=flow.name)
        messages.success(
            request,
            _("The flow “%(name)s” and its emails were created as drafts: review and publish them.")
            % {"name": flow.name},
        )
        return redirect(reverse(self.names["edit"], args=[flow.pk]))


class FlowIndexView(JourneySnippetIndexView):
    presets_url_name = None

    def get_header_buttons(self):
        buttons = super().get_header_buttons()
        if self.permission_policy.user_has_permission(self.request.user, "add"):
            url = reverse(self.presets_url_name)
            buttons = [*buttons, HeaderButton(_("Start from a preset"), url=url, icon_name="plus")]
        return buttons


def _trigger_label(flow: Flow) -> str:
    raw = list(flow.trigger.raw_data) if flow.trigger else []
    if not raw:
        return "—"
    trigger = get_trigger(raw[0]["type"])
    return trigger.describe(raw[0].get("value") or {}) if trigger else raw[0]["type"]


class FlowViewSet(JourneySnippetViewSet):
    model = Flow
    icon = "resubmit"
    menu_label = gettext_lazy("Flows")
    add_to_admin_menu = False
    url_prefix = "journey/flows"
    url_namespace = "wagtail_journey_flow"
    list_display = [
        "name",
        Column("trigger", label=gettext_lazy("Trigger"), accessor=_trigger_label),
        Column("paused", label=gettext_lazy("Paused")),
        LiveStatusTagColumn(),
    ]
    list_filter = ["live", "paused", "marketing"]
    search_fields = ["name"]
    edit_view_class = FlowEditView
    index_view_class = FlowIndexView
    edit_handler = TabbedInterface(
        [
            ObjectList(
                [
                    FieldPanel("name"),
                    FieldPanel("description"),
                    FieldPanel("marketing"),
                    FieldPanel("trigger"),
                    MultiFieldPanel(
                        [FieldPanel("entry_match"), FieldPanel("entry_rules")],
                        heading=gettext_lazy("Who may enter"),
                    ),
                    FieldRowPanel([FieldPanel("reentry"), FieldPanel("reentry_days")]),
                    FieldPanel("goals"),
                ],
                heading=gettext_lazy("Trigger and goals"),
            ),
            ObjectList([FieldPanel("steps")], heading=gettext_lazy("Steps")),
            ObjectList(
                [FieldPanel("inside"), FieldPanel("removed")],
                heading=gettext_lazy("Publishing"),
            ),
        ],
        base_form_class=FlowForm,
    )

    def _names(self) -> dict:
        return {
            name: self.get_url_name(name)
            for name in ("list", "edit", "overview", "enrollments", "dry_run", "act", "presets")
        }

    def get_edit_view_kwargs(self, **kwargs):
        return super().get_edit_view_kwargs(
            overview_url_name=self.get_url_name("overview"), **kwargs
        )

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(
            presets_url_name=self.get_url_name("presets"), **kwargs
        )

    def get_urlpatterns(self):
        kwargs = {"permission_policy": self.permission_policy, "names": self._names()}
        extra = [
            path("overview/<int:pk>/", OverviewView.as_view(**kwargs), name="overview"),
            path("enrollments/<int:pk>/", EnrollmentsView.as_view(**kwargs), name="enrollments"),
            path("dry-run/<int:pk>/", DryRunView.as_view(**kwargs), name="dry_run"),
            path("act/<int:pk>/<str:action>/", ActionView.as_view(**kwargs), name="act"),
            path("presets/", PresetsView.as_view(**kwargs), name="presets"),
        ]
        return [*super().get_urlpatterns(), *guard_urls(extra, self.model)]


def register_flow_log_actions(actions) -> None:
    for name, label in ACTIONS.items():
        actions.register_action(f"wagtail_journey.flow.{name}", label, label)


def refuse_deleting_used_templates(request, instances):
    """before_delete_snippet: a template a flow sends is not deleted; the editor
    is told which flows use it (contacts inside would stop at that step)."""
    from wagtail_journey.flows.usage import flows_using
    from wagtail_journey.models import EmailTemplate

    ids = [i.pk for i in instances if isinstance(i, EmailTemplate)]
    if not ids:
        return None
    names = [f.name for f in flows_using(templates=ids)][:5]
    if not names:
        return None
    messages.error(
        request,
        _(
            "This email template is sent by the flows %(names)s: remove it from their steps "
            "(and publish them) before deleting it."
        )
        % {"names": ", ".join(f"“{n}”" for n in names)},
    )
    return redirect("wagtailsnippets_wagtail_journey_emailtemplate:list")
