"""The Journey menu: the touchpoint log and the other wagtail-modeladmin
listings, with the contacts (a snippet viewset: admin/contact_listing.py)
and the Audience report listed first and last."""

from django.utils.translation import gettext_lazy as _
from wagtail_modeladmin.options import ModelAdminGroup

from wagtail_journey.admin import audience
from wagtail_journey.admin.base import JourneyModelAdmin
from wagtail_journey.admin.display import when
from wagtail_journey.admin.filters import labelled_filter
from wagtail_journey.admin.guard import guard_urls
from wagtail_journey.admin.inspect import ReadableInspectView
from wagtail_journey.admin.permissions import ReadOnlyPermissionHelper
from wagtail_journey.admin.scoring import LifecycleTransitionAdmin, ScoringRuleAdmin
from wagtail_journey.admin.segments import SegmentAdmin
from wagtail_journey.admin.submissions import FormSubmissionAdmin
from wagtail_journey.kinds import kind_choices, kind_label
from wagtail_journey.models import Contact, DailyPageStat, Touchpoint

KindFilter = labelled_filter("kind", _("kind"), kind_choices)


class TouchpointAdmin(JourneyModelAdmin):
    model = Touchpoint
    empty_value_display = "—"  # as the inspect pages and custom columns
    menu_label = _("Touchpoints")
    menu_icon = "list-ul"
    permission_helper_class = ReadOnlyPermissionHelper
    list_display = ("when", "kind_display", "contact", "page_title", "journey_stage")
    list_filter = (KindFilter, "journey_stage")
    search_fields = ("kind", "contact__email")
    inspect_view_enabled = True
    inspect_view_class = ReadableInspectView
    list_per_page = 50

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("contact", "page")

    def when(self, obj):
        return when(obj.occurred_at)

    when.short_description = _("When")
    when.admin_order_field = "occurred_at"

    def kind_display(self, obj):
        return kind_label(obj.kind)

    kind_display.short_description = _("Kind")
    kind_display.admin_order_field = "kind"

    def page_title(self, obj):
        return obj.page.title if obj.page_id else "—"

    page_title.short_description = _("Page")


class JourneyAdminGroup(ModelAdminGroup):
    menu_label = _("Journey")
    menu_icon = "group"
    menu_order = 250
    items = (
        FormSubmissionAdmin,
        TouchpointAdmin,
        SegmentAdmin,
        ScoringRuleAdmin,
        LifecycleTransitionAdmin,
    )

    # The Audience report is a Wagtail report view, not a model listing: added here so it
    # sits in the Journey menu, with its URLs and its permission in Settings → Groups.
    # Contacts are a snippet viewset (for Wagtail's bulk actions), listed first.
    def get_submenu_items(self):
        items = super().get_submenu_items()
        contacts = Contact.snippet_viewset.journey_menu_item(order=0)
        return [contacts, *items, audience.menu_item(order=len(items) + 1)]

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
