"""Form submissions listing with filters and CSV/XLSX export (as Wagtail's form builder)."""

from __future__ import annotations

from datetime import datetime

from django.contrib.admin import RelatedOnlyFieldListFilter
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wagtail_journey.admin.base import JourneyIndexView, JourneyModelAdmin
from wagtail_journey.admin.display import when
from wagtail_journey.admin.inspect import ReadableInspectView
from wagtail_journey.admin.permissions import ReadOnlyPermissionHelper
from wagtail_journey.models import FormSubmission
from wagtail_journey.pages import form_field_names

ANSWER = "answer:"


def local_seconds(value: datetime) -> datetime:
    """A timestamp as the site's local time to the second (spreadsheets show
    microseconds and UTC offsets as noise)."""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.replace(microsecond=0, tzinfo=None)


class SubmissionIndexView(JourneyIndexView):
    """The export has one column per form field, named as the form block names
    it (the field's "Field name", else its label), in the forms' order."""

    export_headings = {
        "created_at": _("Submitted"),
        "form_name": _("Form"),
        "page_title": _("Page"),
        "contact_email": _("Email"),
        "consents_summary": _("Consents"),
    }
    custom_field_preprocess = {
        "created_at": {
            JourneyIndexView.FORMAT_CSV: lambda value: local_seconds(value).isoformat(sep=" "),
            JourneyIndexView.FORMAT_XLSX: local_seconds,
        }
    }

    def as_spreadsheet(self, queryset, spreadsheet_format):
        # The forms' own field order (PostgreSQL's jsonb keeps no key order),
        # then fields since removed from a form, by name.
        forms = queryset.order_by().filter(page__isnull=False).values_list("page", "form_key")
        keys = dict.fromkeys(form_field_names(forms.distinct()))
        stored: set[str] = set()
        for data in queryset.values_list("data", flat=True).iterator(chunk_size=2000):
            stored.update(data or {})
        keys.update(dict.fromkeys(sorted(stored - set(keys))))
        answers = [f"{ANSWER}{key}" for key in keys]
        self.list_export = [*self.list_export, *answers]
        self.export_headings = {**self.export_headings, **{a: a[len(ANSWER) :] for a in answers}}
        return super().as_spreadsheet(queryset, spreadsheet_format)

    def to_row_dict(self, item):
        data = item.data or {}
        row = {}
        for field in self.list_export:
            if field.startswith(ANSWER):
                value = data.get(field[len(ANSWER) :])
            elif field == "page_title":
                value = item.page.title if item.page_id else ""
            else:
                value = getattr(item, field)
                value = value() if callable(value) else value
            row[field] = "" if value is None else value
        return row


class FormSubmissionAdmin(JourneyModelAdmin):
    model = FormSubmission
    empty_value_display = "—"  # as the inspect pages and custom columns
    menu_label = _("Form submissions")
    menu_icon = "form"
    permission_helper_class = ReadOnlyPermissionHelper
    index_view_class = SubmissionIndexView
    inspect_view_class = ReadableInspectView
    list_display = ("submitted", "form_name", "page", "contact", "answers_summary")
    # Only pages that received submissions (not every page of the site, root included).
    list_filter = ("form_name", ("page", RelatedOnlyFieldListFilter), "created_at")
    search_fields = ("form_name", "contact__email")
    list_export = ("created_at", "form_name", "page_title", "contact_email", "consents_summary")
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

    def submitted(self, obj):
        return when(obj.created_at)

    submitted.short_description = _("Submitted")
    submitted.admin_order_field = "created_at"
