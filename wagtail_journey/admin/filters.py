"""Listing filters shared by the admin listings."""

from __future__ import annotations

from django.contrib.admin import SimpleListFilter
from django.utils.text import capfirst


def labelled_filter(field: str, title, choices) -> type[SimpleListFilter]:
    """A listing filter on a column of slugs that offers their labels."""

    class LabelledFilter(SimpleListFilter):
        parameter_name = field

        def lookups(self, request, model_admin):
            return [(value, capfirst(label)) for value, label in choices()]

        def queryset(self, request, queryset):
            value = self.value()
            return queryset.filter(**{field: value}) if value else queryset

    LabelledFilter.title = title
    return LabelledFilter
