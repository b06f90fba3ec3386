"""An inspect view that shows every value in words: dates in one format,
kinds by label, touches and event data as text, pages by title."""

from __future__ import annotations

from datetime import datetime

from django.utils.text import capfirst
from django.utils.translation import gettext
from wagtail.models import Page
from wagtail_modeladmin.views import InspectView

from wagtail_journey.admin.display import properties_text, touch_text, when
from wagtail_journey.kinds import kind_label


class ReadableInspectView(InspectView):
    def get_field_label(self, field_name, field=None):
        return capfirst(super().get_field_label(field_name, field))

    def get_field_display_value(self, field_name, field=None):
        value = getattr(self.instance, field_name, None)
        empty = "—"
        if getattr(field, "choices", None):
            return capfirst(getattr(self.instance, f"get_{field_name}_display")()) or empty
        if value is None or value == "":
            return empty
        if isinstance(value, bool):
            return gettext("Yes") if value else gettext("No")
        if field_name in ("first_touch", "last_touch"):
            return touch_text(value) or empty
        if field_name == "kind":
            return kind_label(value)
        if field_name == "utm":
            return touch_text(value) if value else empty
        if isinstance(value, dict):
            return properties_text(value) or empty
        if isinstance(value, datetime):
            return when(value)
        if isinstance(value, Page):
            return value.title
        return super().get_field_display_value(field_name, field)
