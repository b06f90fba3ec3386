"""Listing filters shared by the admin listings."""

from __future__ import annotations

from django.contrib.admin import SimpleListFilter


def labelled_filter(field: str, title, choices) -> type[SimpleListFilter]:
    """A listing filter on a column of slugs that offers their labels."""

    class LabelledFilter(SimpleListFilter):
        parameter_name = field

        def lookups(self, request, model_admin):
            return choices()

        def queryset(self, request, queryset):
            value = self.value()
            return queryset.filter(**{field: value}) if value else queryset

    LabelledFilter.title = title
    return LabelledFilter
