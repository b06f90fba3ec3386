"""Contacts and the touchpoint log in the Wagtail admin."""

from django.urls import re_path
from django.utils.translation import gettext_lazy as _
from wagtail_modeladmin.options import ModelAdminGroup

from wagtail_journey.admin import audience
from wagtail_journey.admin.base import JourneyModelAdmin
from wagtail_journey.admin.contact_views import ContactInspectView, contact_action
from wagtail_journey.admin.guard import guard_urls
from wagtail_journey.admin.permissions import ReadOnlyPermissionHelper
from wagtail_journey.admin.scoring import LifecycleTransitionAdmin, ScoringRuleAdmin
from wagtail_journey.admin.segments import SegmentAdmin
from wagtail_journey.admin.submissions import FormSubmissionAdmin
from wagtail_journey.models import Contact, DailyPageStat, Touchpoint


class ContactAdmin(JourneyModelAdmin):
    model = Contact
    menu_label = _("Contacts")
    menu_icon = "user"
    list_display = (
        "email",
        "full_name",
        "score",
        "lifecycle_stage",
        "journey_stage",
        "last_activity_at",
    )
    list_filter = ("lifecycle_stage", "journey_stage")
    search_fields = ("email", "first_name", "last_name")
    inspect_view_enabled = True
    inspect_view_class = ContactInspectView
    # Decay bookkeeping (run ids): the score explanation below shows the runs.
    inspect_view_fields_exclude = ("decay_runs", "last_decay_run")
    list_per_page = 50

    def get_admin_urls_for_registration(self):
        return (
            *super().get_admin_urls_for_registration(),
            re_path(
                r"^journey/contacts/(?P<pk>\d+)/action/$",
                contact_action,
                name="wagtail_journey_contact_action",
            ),
        )


class TouchpointAdmin(JourneyModelAdmin):
    model = Touchpoint
    menu_label = _("Touchpoints")
    menu_icon = "list-ul"
    permission_helper_class = ReadOnlyPermissionHelper
    list_display = ("occurred_at", "kind", "contact", "page", "journey_stage")
    list_filter = ("kind", "journey_stage")
    search_fields = ("kind", "contact__email")
    inspect_view_enabled = True
    list_per_page = 50

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("contact", "page")


class JourneyAdminGroup(ModelAdminGroup):
    menu_label = _("Journey")
    menu_icon = "group"
    menu_order = 250
    items = (
        ContactAdmin,
        FormSubmissionAdmin,
        TouchpointAdmin,
        SegmentAdmin,
        ScoringRuleAdmin,
        LifecycleTransitionAdmin,
    )

    # The Audience report is a Wagtail report view, not a model listing: added here so it
    # sits in the Journey menu, with its URLs and its permission in Settings → Groups.
    def get_submenu_items(self):
        items = super().get_submenu_items()
        return [*items, audience.menu_item(order=len(items) + 1)]

    def get_admin_urls_for_registration(self):
        # Every URL of every listing in the group, and of the report, first checks
        # a permission on its model (wagtail_journey.admin.guard).
        urls = [
            url
            for instance in self.modeladmin_instances
            for url in guard_urls(instance.get_admin_urls_for_registration(), instance.model)
        ]
        return (*urls, *guard_urls(audience.urls(), DailyPageStat))

    def get_permissions_for_registration(self):
        return super().get_permissions_for_registration() | audience.permissions()
