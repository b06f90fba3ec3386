"""The outbox (every OutboundEmail: status, reason, a re-rendered preview) and the
suppression list (add, remove, with the reason). Thin glue over emails/."""

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
from wagtail.permissions import register_permission_policy
from wagtail.snippets.views.snippets import InspectView, SnippetViewSet

from wagtail_journey.emails import messages
from wagtail_journey.emails.preview import frame_response
from wagtail_journey.models import OutboundEmail, Suppression
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
    return row.message or gettext("(template deleted)")


class OutboxInspectView(InspectView):
    template_name = "wagtail_journey/admin/outbox_inspect.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["preview_url"] = reverse(self.preview_url_name, args=[self.object.pk])
        context["row"] = self.object
        return context

    preview_url_name = "wagtail_journey_outbox:preview"


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


class OutboxViewSet(SnippetViewSet):
    model = OutboundEmail
    icon = "mail"
    menu_label = _("Outbox")
    add_to_admin_menu = False
    url_prefix = "journey/outbox"
    url_namespace = "wagtail_journey_outbox"
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
            get_url=lambda row: reverse("wagtail_journey_outbox:inspect", args=[row.pk]),
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
        return [
            *super().get_urlpatterns(),
            path(
                "preview/<int:pk>/",
                PreviewFrameView.as_view(permission_policy=self.permission_policy),
                name="preview",
            ),
        ]


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


class SuppressionViewSet(SnippetViewSet):
    model = Suppression
    icon = "cross"
    menu_label = _("Suppressed addresses")
    add_to_admin_menu = False
    url_prefix = "journey/suppressions"
    url_namespace = "wagtail_journey_suppressions"
    list_display = ["address", "source", "reason", "created_at"]
    list_filter = ["source"]
    search_fields = ["address", "reason"]
    form_fields = ["address", "source", "reason"]

    def get_form_class(self, for_update=False):
        return SuppressionForm

    ordering = ["-created_at"]
