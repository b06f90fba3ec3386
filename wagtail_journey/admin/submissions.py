"""Form submissions listing with filters and CSV/XLSX export (as Wagtail's form builder)."""

from django.utils.translation import gettext_lazy as _

from wagtail_journey.admin.base import JourneyModelAdmin
from wagtail_journey.admin.permissions import ReadOnlyPermissionHelper
from wagtail_journey.models import FormSubmission


class FormSubmissionAdmin(JourneyModelAdmin):
    model = FormSubmission
    menu_label = _("Form submissions")
    menu_icon = "form"
    permission_helper_class = ReadOnlyPermissionHelper
    list_display = ("created_at", "form_name", "page", "contact", "answers_summary")
    list_filter = ("form_name", "page", "created_at")
    search_fields = ("form_name", "contact__email")
    list_export = (
        "created_at",
        "form_name",
        "page",
        "contact_email",
        "answers_summary",
        "consents_summary",
    )
    export_filename = "form-submissions"
    inspect_view_enabled = True
    inspect_view_fields = (
        "created_at",
        "form_name",
        "page",
        "contact",
        "answers_summary",
        "consents_summary",
    )
    list_per_page = 50

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("contact", "page")
