"""Contacts and the touchpoint log in the Wagtail admin."""

from django.utils.translation import gettext_lazy as _
from wagtail_modeladmin.options import ModelAdmin, ModelAdminGroup

from wagtail_journey.admin.permissions import ReadOnlyPermissionHelper
from wagtail_journey.admin.submissions import FormSubmissionAdmin
from wagtail_journey.models import Contact, Touchpoint


class ContactAdmin(ModelAdmin):
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
    inspect_template_name = "wagtail_journey/admin/contact_inspect.html"
    list_per_page = 50


class TouchpointAdmin(ModelAdmin):
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
    items = (ContactAdmin, FormSubmissionAdmin, TouchpointAdmin)
