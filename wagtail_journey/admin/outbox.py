"""The outbox (every OutboundEmail: status, reason, a re-rendered preview), the
suppression list (add, remove, with the reason) and broadcasts (progress, start,
pause, resume, cancel). Thin glue over emails/."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timezone import localtime
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import View
from django_filters import ChoiceFilter, FilterSet
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import (
    FieldPanel,
    FieldRowPanel,
    HelpPanel,
    InlinePanel,
    MultiFieldPanel,
)
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.snippets.views.snippets import InspectView

from wagtail_journey.admin.base import JourneySnippetViewSet
from wagtail_journey.admin.guard import guard_urls
from wagtail_journey.emails import messages
from wagtail_journey.emails.preview import frame_response
from wagtail_journey.models import Broadcast, BroadcastVariant, OutboundEmail, Suppression
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


def subject(row: OutboundEmail) -> str:
    """The subject line as written (merge tags unfilled): the A/B variant's own, or the
    template's; empty for code-built messages."""
    if row.variant_id is not None and row.variant.subject:
        return row.variant.subject
    return row.template.subject if row.template_id is not None else ""


def variant(row: OutboundEmail) -> str:
    return row.variant.label if row.variant_id is not None else ""


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
            OutboundEmail.objects.select_related("revision", "contact", "template", "variant"),
            pk=pk,
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
        "variant",
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
        Column("subject", label=_("Subject"), accessor=subject),
        Column("variant", label=_("A/B variant"), accessor=variant),
        "status",
        "reason",
        "created_at",
        "sent_at",
    ]
    list_export = ["pk", "status", "reason", "detail", "esp_message_id", "created_at", "sent_at"]
    ordering = ["-created_at", "-pk"]
    list_per_page = 50

    def get_queryset(self, request):
        return OutboundEmail.objects.select_related("contact", "template", "variant")

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
    """The broadcast's progress (refreshed while it sends), its A/B results and its
    actions (send now, schedule, pause, resume, cancel, pick the winner)."""

    template_name = "wagtail_journey/admin/broadcast_inspect.html"

    def get_context_data(self, **kwargs):
        from wagtail_journey.emails import stats
        from wagtail_journey.emails.broadcasts import progress

        context = super().get_context_data(**kwargs)
        broadcast = self.object
        context["broadcast"] = broadcast
        context["progress"] = progress(broadcast)
        context["can_change"] = self.permission_policy.user_has_permission_for_instance(
            self.request.user, "change", broadcast
        )
        waiting = OutboundEmail.objects.filter(broadcast=broadcast, status__in=WAITING).exists()
        # Started, and nothing left to send: every message has its outcome.
        context["finished"] = broadcast.started_at is not None and not waiting
        ab_open = broadcast.test_ends_at is not None and broadcast.winner_id is None
        context["actions"] = [
            (name, label, reverse("wagtail_journey_broadcast:act", args=[broadcast.pk, name]))
            for name, label in BROADCAST_ACTIONS
            if broadcast.status in ACTION_FROM[name]
            and (name not in NEEDS_WAITING or waiting)
            and (name != "pick" or ab_open)
        ]
        if broadcast.test_ends_at is not None:
            lines = stats.for_broadcast(broadcast)
            context.update(
                ab_lines=lines[1:],
                ab_open=ab_open,
                winner_label=str(broadcast.winner) if broadcast.winner_id else "",
                headings=[label for label, _q in stats.COLUMNS.values()],
                rate_headings=[label for label, _c in stats.RATES.values()],
                columns=list(stats.COLUMNS),
                variants=list(
                    BroadcastVariant.objects.filter(broadcast=broadcast).order_by(
                        "sort_order", "pk"
                    )
                ),
                pick_url=reverse("wagtail_journey_broadcast:act", args=[broadcast.pk, "pick"]),
            )
        context["stats_url"] = reverse("wagtail_journey_broadcast:stats", args=[broadcast.pk])
        return context


#: Statuses of messages still to be sent (the held ones wait for an A/B winner).
WAITING = [OutboundStatus.PENDING, OutboundStatus.SENDING, OutboundStatus.HELD]
BROADCAST_ACTIONS = [
    ("start", _("Send now")),
    ("schedule", _("Schedule")),
    ("unschedule", _("Unschedule")),
    ("pause", _("Pause")),
    ("resume", _("Resume")),
    ("cancel", _("Cancel the rest")),
    ("pick", _("Pick the winner now")),
]
ACTION_FROM = {
    "start": ("draft", "scheduled"),
    "schedule": ("draft",),
    "unschedule": ("scheduled",),
    "pause": ("sending",),
    "resume": ("paused",),
    "cancel": ("sending", "paused"),
    "pick": ("sending", "paused"),
}
#: Actions shown only while messages are still to be sent.
NEEDS_WAITING = ("pause", "resume", "cancel", "pick")


class BroadcastActionView(PermissionCheckedMixin, View):
    """POST only: start, schedule, pause, resume, cancel or pick the A/B winner;
    logged without personal data."""

    permission_required = "change"
    http_method_names = ["post"]

    def post(self, request, pk, action):
        from django.contrib import messages as flash
        from django.shortcuts import redirect
        from wagtail.log_actions import log

        from wagtail_journey.emails import ab_tests, broadcasts

        broadcast = get_object_or_404(Broadcast, pk=pk)
        target = reverse("wagtail_journey_broadcast:inspect", args=[pk])
        if action not in ACTION_FROM:
            return redirect(target)
        try:
            if action == "start":
                count = broadcasts.start(broadcast)
                flash.success(request, gettext("Sending to %(count)s contacts.") % {"count": count})
            elif action == "pick":
                chosen = None
                wanted = request.POST.get("variant", "")
                if wanted:
                    chosen = BroadcastVariant.objects.filter(
                        broadcast=broadcast, pk=wanted if wanted.isdigit() else 0
                    ).first()
                    if chosen is None:
                        flash.error(request, gettext("Choose one of the variants."))
                        return redirect(target)
                winner = ab_tests.pick_winner(broadcast, chosen)
                if winner is None:
                    flash.error(request, gettext("The winner has already been picked."))
                    return redirect(target)
                flash.success(
                    request,
                    gettext("%(variant)s won: it is being sent to the rest of the audience.")
                    % {"variant": winner},
                )
            elif action == "schedule":
                if not broadcasts.schedule(broadcast):
                    flash.error(request, gettext("Only a draft can be scheduled."))
                    return redirect(target)
                flash.success(
                    request,
                    gettext("Scheduled: it starts at %(when)s.")
                    % {"when": date_format(localtime(broadcast.send_at), "DATETIME_FORMAT")},
                )
            else:
                getattr(broadcasts, action)(broadcast)
                flash.success(request, gettext("Done."))
        except broadcasts.NotPublished:
            flash.error(request, gettext("Publish the email template first."))
            return redirect(target)
        except broadcasts.CannotStart as exc:
            flash.error(request, str(exc))
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
    list_display = ["name", "template", "segment", "status", "audience", "send_at", "started_at"]
    list_filter = ["status"]
    panels = [
        FieldPanel("name"),
        FieldPanel("template"),
        FieldPanel("segment"),
        FieldRowPanel([FieldPanel("send_at"), FieldPanel("rate_per_minute")]),
        MultiFieldPanel(
            [
                HelpPanel(
                    content=_(
                        "Add two or more variants to test subjects or templates on a random "
                        "share of the audience; the rest receive the winner."
                    )
                ),
                FieldRowPanel(
                    [
                        FieldPanel("ab_test_share"),
                        FieldPanel("ab_wait_minutes"),
                        FieldPanel("ab_metric"),
                    ]
                ),
                InlinePanel("variants", label=_("Variant"), heading=_("Variants")),
            ],
            heading=_("A/B test"),
        ),
    ]
    inspect_view_enabled = True
    inspect_view_class = BroadcastInspectView

    def get_urlpatterns(self):
        from wagtail_journey.admin.email_stats import BroadcastStatsView

        act = path(
            "act/<int:pk>/<str:action>/",
            BroadcastActionView.as_view(permission_policy=self.permission_policy),
            name="act",
        )
        stats = path(
            "stats/<int:pk>/",
            BroadcastStatsView.as_view(
                permission_policy=self.permission_policy,
                model=Broadcast,
                index_url_name=self.get_url_name("list"),
                back_url_name=self.get_url_name("inspect"),
            ),
            name="stats",
        )
        return [*super().get_urlpatterns(), *guard_urls([act, stats], self.model)]


def register_broadcast_log_actions(actions) -> None:
    for name, label in BROADCAST_ACTIONS:
        actions.register_action(f"wagtail_journey.broadcast.{name}", label, label)
    not_started = _("Did not start at its time")
    actions.register_action("wagtail_journey.broadcast.not_started", not_started, not_started)


def refuse_deleting_used_templates(request, instances):
    """before_delete_snippet: a template a broadcast uses is not deleted; the editor
    is told which broadcasts use it (nothing is half-deleted or half-sent)."""
    from django.contrib import messages as flash
    from django.shortcuts import redirect

    from wagtail_journey.models import EmailTemplate

    templates = [i for i in instances if isinstance(i, EmailTemplate)]
    if not templates:
        return None
    used = Q(template__in=templates) | Q(variants__template__in=templates)
    names = list(
        Broadcast.objects.filter(used)
        .distinct()
        .order_by("name")
        .values_list("name", flat=True)[:5]
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
