"""Email templates as snippets: drafts, revisions, live preview, and a page to
preview the latest revision with a chosen contact's data at desktop and phone
widths and send a test to oneself (thin glue over emails.preview/send_test)."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.generic import TemplateView, View
from wagtail.admin.ui.tables import BooleanColumn, LiveStatusTagColumn
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.admin.widgets.button import HeaderButton
from wagtail.log_actions import log
from wagtail.snippets.views.snippets import EditView

from wagtail_journey.admin.base import JourneySnippetViewSet
from wagtail_journey.admin.email_stats import TemplateStatsView
from wagtail_journey.emails.preview import (
    SESSION_CONTACT,
    error_page,
    frame_response,
    preview_context,
)
from wagtail_journey.emails.rendering import RenderError, compile_email, compiled
from wagtail_journey.emails.send_test import TooManyTests, send_test_email, test_revision
from wagtail_journey.models import Contact, EmailTemplate

TEST_SENT = "wagtail_journey.email_test_sent"


def can_see_contacts(user) -> bool:
    """Previewing with a real contact shows their data: only for who may see contacts."""
    return user.has_perm("wagtail_journey.view_contact") or user.has_perm(
        "wagtail_journey.change_contact"
    )


class _TemplateMixin(PermissionCheckedMixin):
    """The template from the URL; editing rights on templates are required."""

    any_permission_required = ["add", "change"]
    model = EmailTemplate

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.object = get_object_or_404(EmailTemplate, pk=kwargs["pk"])

    def contact(self):
        """The contact chosen for previews (?contact= or the session), if allowed."""
        if not can_see_contacts(self.request.user):
            return None
        contact_id = self.request.GET.get("contact") or self.request.session.get(SESSION_CONTACT)
        if not str(contact_id or "").isdigit():
            return None
        return Contact.objects.filter(pk=contact_id).first()

    def render_latest(self, contact):
        revision = test_revision(self.object)
        source = compiled(revision) if revision is not None else compile_email(self.object)
        return source.personalise(preview_context(contact), None)


class PreviewView(_TemplateMixin, WagtailAdminTemplateMixin, TemplateView):
    template_name = "wagtail_journey/admin/email_preview.html"
    page_title = gettext_lazy("Preview and test")
    header_icon = "mail"
    index_url_name = None
    edit_url_name = None
    frame_url_name = None
    send_test_url_name = None

    def get(self, request, *args, **kwargs):
        contact = self.contact()
        if contact is not None:
            request.session[SESSION_CONTACT] = contact.pk
        elif request.GET.get("clear"):
            request.session.pop(SESSION_CONTACT, None)
        return super().get(request, *args, **kwargs)

    def get_page_subtitle(self):
        return self.object.name

    def get_breadcrumbs_items(self):
        return [
            {"url": reverse(self.index_url_name), "label": EmailTemplate._meta.verbose_name_plural},
            {"url": reverse(self.edit_url_name, args=[self.object.pk]), "label": self.object.name},
            {"url": "", "label": self.page_title},
        ]

    def found_contacts(self):
        query = (self.request.GET.get("q") or "").strip()[:100]
        if not query or not can_see_contacts(self.request.user):
            return []
        match = (
            Q(email__icontains=query)
            | Q(first_name__icontains=query)
            | Q(last_name__icontains=query)
        )
        return list(Contact.objects.filter(match).order_by("email")[:10])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        contact = self.contact()
        frame = reverse(self.frame_url_name, args=[self.object.pk])
        if contact is not None:
            frame += f"?contact={contact.pk}"
        try:
            rendered, error = self.render_latest(contact), None
        except RenderError as exc:
            rendered, error = None, str(exc)
        context.update(
            error=error,
            template=self.object,
            contact=contact,
            query=self.request.GET.get("q", ""),
            found=self.found_contacts(),
            searched=bool(self.request.GET.get("q")),
            can_see_contacts=can_see_contacts(self.request.user),
            frame_url=frame,
            rendered=rendered,
            is_draft=self.object.latest_revision_id != self.object.live_revision_id,
            send_test_url=reverse(self.send_test_url_name, args=[self.object.pk]),
            edit_url=reverse(self.edit_url_name, args=[self.object.pk]),
            user_email=self.request.user.email,
        )
        return context


@method_decorator(xframe_options_sameorigin, name="dispatch")
class PreviewFrameView(_TemplateMixin, View):
    """The email's HTML alone, for the preview page's frames (no script runs)."""

    def get(self, request, *args, **kwargs):
        try:
            return frame_response(self.render_latest(self.contact()).html)
        except RenderError as exc:
            return frame_response(error_page(exc))


class SendTestView(_TemplateMixin, View):
    preview_url_name = None

    def post(self, request, *args, **kwargs):
        back = reverse(self.preview_url_name, args=[self.object.pk])
        email = request.user.email
        if not email:
            messages.error(
                request, _("Your account has no email address: add one in your profile.")
            )
            return redirect(back)
        contact = self.contact()
        try:
            send_test_email(self.object, email, user_id=request.user.pk, contact=contact)
        except TooManyTests:
            messages.error(request, _("You have sent many tests recently. Try again later."))
            return redirect(back)
        except RenderError as exc:
            messages.error(request, str(exc))
            return redirect(back)
        # The log title is the template's name: no personal data survives in the log.
        log(self.object, TEST_SENT, user=request.user, title=self.object.name)
        messages.success(request, _("A test was sent to %(email)s.") % {"email": email})
        if contact is not None:
            back += f"?contact={contact.pk}"
        return redirect(back)


class TemplateEditView(EditView):
    """The edit view, with a header button to the preview-and-test page."""

    preview_test_url_name = None
    stats_url_name = None

    def get_header_buttons(self):
        buttons = super().get_header_buttons()
        url = reverse(self.preview_test_url_name, args=[self.object.pk])
        stats = reverse(self.stats_url_name, args=[self.object.pk])
        return [
            *buttons,
            HeaderButton(_("Preview and test"), url=url, icon_name="mail"),
            HeaderButton(_("Statistics"), url=stats, icon_name="table"),
        ]


def register_log_actions(actions) -> None:
    actions.register_action(
        TEST_SENT, gettext_lazy("Send a test email"), gettext_lazy("Test email sent")
    )


class EmailTemplateViewSet(JourneySnippetViewSet):
    model = EmailTemplate
    icon = "mail"
    menu_label = gettext_lazy("Email templates")
    add_to_admin_menu = False
    list_display = [
        "name",
        "subject",
        "purpose",
        BooleanColumn("transactional", label=gettext_lazy("Transactional")),
        "language",
        LiveStatusTagColumn(),
    ]
    list_filter = ["transactional", "language", "live"]
    search_fields = ["name", "subject"]
    edit_view_class = TemplateEditView

    def get_edit_view_kwargs(self, **kwargs):
        return super().get_edit_view_kwargs(
            preview_test_url_name=self.get_url_name("preview_test"),
            stats_url_name=self.get_url_name("stats"),
            **kwargs,
        )

    def get_urlpatterns(self):
        kwargs = {
            "permission_policy": self.permission_policy,
            "index_url_name": self.get_url_name("list"),
            "edit_url_name": self.get_url_name("edit"),
            "frame_url_name": self.get_url_name("preview_frame"),
            "send_test_url_name": self.get_url_name("send_test"),
            "preview_url_name": self.get_url_name("preview_test"),
        }
        return [
            *super().get_urlpatterns(),
            path(
                "preview-test/<int:pk>/",
                self.construct_view(PreviewView, **kwargs),
                name="preview_test",
            ),
            path(
                "preview-frame/<int:pk>/",
                self.construct_view(PreviewFrameView, **kwargs),
                name="preview_frame",
            ),
            path(
                "send-test/<int:pk>/",
                self.construct_view(SendTestView, **kwargs),
                name="send_test",
            ),
            path(
                "stats/<int:pk>/",
                TemplateStatsView.as_view(
                    permission_policy=self.permission_policy,
                    model=EmailTemplate,
                    index_url_name=self.get_url_name("list"),
                    back_url_name=self.get_url_name("edit"),
                ),
                name="stats",
            ),
        ]
