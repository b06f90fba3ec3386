"""The outbox (every OutboundEmail: status, reason, a re-rendered preview), the
suppression list (add, remove, with the reason) and broadcasts (progress, start,
pause, resume, cancel). Thin glue over emails/."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import View
from django_filters import ChoiceFilter, FilterSet
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.snippets.views.snippets import InspectView

from wagtail_journey.admin.base import JourneySnippetViewSet
from wagtail_journey.admin.guard import guard_urls
from wagtail_journey.emails import messages
from wagtail_journey.emails.preview import frame_response
from wagtail_journey.models import Broadcast, OutboundEmail, Suppression
from wagtail_journey.models.outbound import OutboundReason, OutboundStatus


class ReadOnlyPolicy(ModelPermissionPolicy):
    """The outbox is a log: viewable with the view (or change) permission, never edited."""

    def user_has_permission(self, user, action):
        if action in ("add", "change", "delete", "publish", "lock", "unlock"):
            return False
        if action == "view":
            return super().user_has_permission(user, "view") or super().user_has_permission(
                user, "change"
            )
        return super().user_has_permission(user, action)


try:  # Wagtail 8 keeps a policy registry that every snippet view consults.
    from wagtail.permissions import register_permission_policy
except ImportError:  # Wagtail 7.4 has none: the viewset's own attribute below serves.
    register_permission_policy = None
if register_permission_policy is not None:
    register_permission_policy(OutboundEmail, ReadOnlyPolicy(OutboundEmail))


class OutboxFilterSet(FilterSet):
    status = ChoiceFilter(label=_("Status"), choices=OutboundStatus.choices)
    reason = ChoiceFilter(label=_("Reason"), choices=OutboundReason.choices[1:])

    class Meta:
        model = OutboundEmail
        fields = ["status", "reason"]


def recipient(row: OutboundEmail) -> str:
    if row.contact_id is not None:
        return row.contact.email
    return row.address or gettext("(erased)")


def what(row: OutboundEmail) -> str:
    if row.template_id is not None:
        return row.template.name
    if row.message:
        return messages.label_for(row.message)
    return gettext("(template deleted)")


class OutboxInspectView(InspectView):
    template_name = "wagtail_journey/admin/outbox_inspect.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["preview_url"] = reverse(self.preview_url_name, args=[self.object.pk])
        context["row"] = self.object
        return context

    preview_url_name = "wagtail_journey_outboundemail:preview"


class PreviewFrameView(PermissionCheckedMixin, View):
    """The message as it was (or will be) sent, rendered again from revision + context;
    links are left untracked and the unsubscribe link goes nowhere."""

    permission_required = "view"

    def get(self, request, pk):
        row = get_object_or_404(
            OutboundEmail.objects.select_related("revision", "contact", "template"), pk=pk
        )
        try:
            built = messages.build(row, {"unsubscribe": "#"}, track=False)
        except messages.TemplateGone:
            return frame_response(
                format_html("<p>{}</p>", gettext("The template of this message was deleted."))
            )
        return frame_response(built.html or format_html("<pre>{}</pre>", built.text))


class OutboxViewSet(JourneySnippetViewSet):
    model = OutboundEmail
    permission_policy = ReadOnlyPolicy(OutboundEmail)
    icon = "mail"
    menu_label = _("Outbox")
    add_to_admin_menu = False
    url_prefix = "journey/outbox"
    url_namespace = "wagtail_journey_outboundemail"
    filterset_class = OutboxFilterSet
    inspect_view_enabled = True
    inspect_view_class = OutboxInspectView
    inspect_view_fields = [
        "status",
        "reason",
        "detail",
        "contact",
        "template",
        "message",
        "purpose",
        "language",
        "esp_message_id",
        "attempts",
        "created_at",
        "due_at",
        "sent_at",
        "event_at",
    ]
    list_display = [
        TitleColumn(
            "pk",
            label="#",
            get_url=lambda row: reverse("wagtail_journey_outboundemail:inspect", args=[row.pk]),
        ),
        Column("recipient", label=_("Recipient"), accessor=recipient),
        Column("what", label=_("Message"), accessor=what),
        "status",
        "reason",
        "created_at",
        "sent_at",
    ]
    list_export = ["pk", "status", "reason", "detail", "esp_message_id", "created_at", "sent_at"]
    ordering = ["-created_at", "-pk"]
    list_per_page = 50

    def get_queryset(self, request):
        return OutboundEmail.objects.select_related("contact", "template")

    def get_urlpatterns(self):
        preview = path(
            "preview/<int:pk>/",
            PreviewFrameView.as_view(permission_policy=self.permission_policy),
            name="preview",
        )
        return [*super().get_urlpatterns(), *guard_urls([preview], self.model)]


class SuppressionForm(WagtailAdminModelForm):
    """An address is required here (only erasure blanks it) and suppressed once."""

    address = forms.CharField(label=_("Address"), max_length=254)

    class Meta:
        model = Suppression
        fields = ["address", "source", "reason"]

    def clean_address(self) -> str:
        from wagtail_journey.identity import clean_email
        from wagtail_journey.models.outbound import address_key

        address = clean_email(self.cleaned_data["address"])
        taken = Suppression.objects.filter(address_hash=address_key(address))
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise ValidationError(_("This address is already on the suppression list."))
        return address


class SuppressionViewSet(JourneySnippetViewSet):
    model = Suppression
    icon = "cross"
    menu_label = _("Suppressed addresses")
    add_to_admin_menu = False
    url_prefix = "journey/suppressions"
    url_namespace = "wagtail_journey_suppression"
    list_display = ["address", "source", "reason", "created_at"]
    list_filter = ["source"]
    search_fields = ["address", "reason"]
    form_fields = ["address", "source", "reason"]

    def get_form_class(self, for_update=False):
        return SuppressionForm

    ordering = ["-created_at"]


class BroadcastInspectView(InspectView):
    """The broadcast's progress (refreshed while it sends) and its start/pause/resume/cancel."""

    template_name = "wagtail_journey/admin/broadcast_inspect.html"

    def get_context_data(self, **kwargs):
        from wagtail_journey.emails.broadcasts import progress

        context = super().get_context_data(**kwargs)
        broadcast = self.object
        context["broadcast"] = broadcast
        context["progress"] = progress(broadcast)
        context["can_change"] = self.permission_policy.user_has_permission_for_instance(
            self.request.user, "change", broadcast
        )
        waiting = OutboundEmail.objects.filter(
            broadcast=broadcast, status__in=[OutboundStatus.PENDING, OutboundStatus.SENDING]
        ).exists()
        # Started, and nothing left to send: every message has its outcome.
        context["finished"] = broadcast.started_at is not None and not waiting
        context["actions"] = [
            (name, label, reverse("wagtail_journey_broadcast:act", args=[broadcast.pk, name]))
            for name, label in BROADCAST_ACTIONS
            if broadcast.status in ACTION_FROM[name] and not (name != "start" and not waiting)
        ]
        return context


BROADCAST_ACTIONS = [
    ("start", _("Send now")),
    ("pause", _("Pause")),
    ("resume", _("Resume")),
    ("cancel", _("Cancel the rest")),
]
ACTION_FROM = {
    "start": ("draft",),
    "pause": ("sending",),
    "resume": ("paused",),
    "cancel": ("sending", "paused"),
}


class BroadcastActionView(PermissionCheckedMixin, View):
    """POST only: start, pause, resume or cancel; logged without personal data."""

    permission_required = "change"
    http_method_names = ["post"]

    def post(self, request, pk, action):
        from django.contrib import messages as flash
        from django.shortcuts import redirect
        from wagtail.log_actions import log

        from wagtail_journey.emails import broadcasts

        broadcast = get_object_or_404(Broadcast, pk=pk)
        target = reverse("wagtail_journey_broadcast:inspect", args=[pk])
        if action not in ACTION_FROM:
            return redirect(target)
        try:
            if action == "start":
                count = broadcasts.start(broadcast)
                flash.success(request, gettext("Sending to %(count)s contacts.") % {"count": count})
            else:
                getattr(broadcasts, action)(broadcast)
                flash.success(request, gettext("Done."))
        except broadcasts.NotPublished:
            flash.error(request, gettext("Publish the email template first."))
            return redirect(target)
        except broadcasts.CannotStart:
            flash.error(request, gettext("This broadcast has already started."))
            return redirect(target)
        log(
            broadcast,
            f"wagtail_journey.broadcast.{action}",
            user=request.user,
            title=broadcast.name,
        )
        return redirect(target)


class BroadcastViewSet(JourneySnippetViewSet):
    model = Broadcast
    icon = "mail"
    menu_label = _("Broadcasts")
    add_to_admin_menu = False
    url_prefix = "journey/broadcasts"
    url_namespace = "wagtail_journey_broadcast"
    list_display = ["name", "template", "segment", "status", "audience", "started_at"]
    list_filter = ["status"]
    form_fields = ["name", "template", "segment", "rate_per_minute"]
    inspect_view_enabled = True
    inspect_view_class = BroadcastInspectView

    def get_urlpatterns(self):
        act = path(
            "act/<int:pk>/<str:action>/",
            BroadcastActionView.as_view(permission_policy=self.permission_policy),
            name="act",
        )
        return [*super().get_urlpatterns(), *guard_urls([act], self.model)]


def register_broadcast_log_actions(actions) -> None:
    for name, label in BROADCAST_ACTIONS:
        actions.register_action(f"wagtail_journey.broadcast.{name}", label, label)


def refuse_deleting_used_templates(request, instances):
    """before_delete_snippet: a template a broadcast uses is not deleted; the editor
    is told which broadcasts use it (nothing is half-deleted or half-sent)."""
    from django.contrib import messages as flash
    from django.shortcuts import redirect

    from wagtail_journey.models import EmailTemplate

    templates = [i for i in instances if isinstance(i, EmailTemplate)]
    if not templates:
        return None
    names = list(
        Broadcast.objects.filter(template__in=templates).values_list("name", flat=True)[:5]
    )
    if not names:
        return None
    flash.error(
        request,
        gettext(
            "This email template is used by the broadcasts %(names)s: it cannot be deleted "
            "while they exist."
        )
        % {"names": ", ".join(f"“{n}”" for n in names)},
    )
    return redirect("wagtailsnippets_wagtail_journey_emailtemplate:list")
