"""The contact list's filters (a django-filter FilterSet in Wagtail's filter panel).

Every filter is one indexed condition or one semi-join, so filters combine
without a Python loop: segment -> the membership table's (segment, contact)
index; tag -> the tag through table; consent -> the deciding-answer subquery
of :func:`wagtail_journey.privacy.consent.contacts_with_consent`. A value
that does not exist (a deleted segment, a made-up date) is a form error shown
beside the filter, never a server error.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from taggit.models import Tag
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.utils import get_user_display_name

from wagtail_journey.contacts.bulk import owner_choices
from wagtail_journey.models import (
    ConsentPurpose,
    Contact,
    Segment,
    SegmentMembership,
    TaggedContact,
)
from wagtail_journey.models.contacts import JourneyStage
from wagtail_journey.stages import lifecycle_choices

#: Largest score the range filter accepts (the column is a 32-bit integer).
SCORE_LIMIT = 2**31 - 1


def _tags(request) -> QuerySet:
    # Only tags some contact has: one index probe per tag, not a scan of the tagging table.
    used = TaggedContact.objects.filter(tag=OuterRef("pk"))
    return Tag.objects.filter(Exists(used)).order_by("name")


def _segments(request) -> QuerySet:
    return Segment.objects.order_by("name")


def _owners(request) -> QuerySet:
    return owner_choices()


def consent_choices() -> list[tuple[str, str]]:
    """ "<purpose key>:granted" and ":missing" for each consent purpose, labelled."""
    choices = []
    for name, key in ConsentPurpose.objects.order_by("name").values_list("name", "key"):
        choices.append(
            (f"{key}:granted", gettext("%(purpose)s: has consented") % {"purpose": name})
        )
        choices.append(
            (f"{key}:missing", gettext("%(purpose)s: has not consented") % {"purpose": name})
        )
    return choices


class OwnerChoiceField(django_filters.fields.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return get_user_display_name(obj)


class OwnerFilter(django_filters.ModelChoiceFilter):
    field_class = OwnerChoiceField


class ScoreRangeWidget(django_filters.widgets.SuffixedMultiWidget):
    template_name = "wagtailadmin/widgets/range_input.html"
    suffixes = ["min", "max"]

    def __init__(self, attrs=None):
        widgets = (
            forms.NumberInput(attrs={"placeholder": _("Minimum")}),
            forms.NumberInput(attrs={"placeholder": _("Maximum")}),
        )
        super().__init__(widgets, attrs)

    def decompress(self, value):
        return [value.start, value.stop] if value else [None, None]


class ScoreRangeField(django_filters.fields.RangeField):
    """Two whole numbers within the score column's range."""

    def __init__(self, fields=None, *args, **kwargs):
        fields = (
            forms.IntegerField(min_value=-SCORE_LIMIT, max_value=SCORE_LIMIT),
            forms.IntegerField(min_value=-SCORE_LIMIT, max_value=SCORE_LIMIT),
        )
        super().__init__(fields, *args, **kwargs)


class ScoreRangeFilter(django_filters.RangeFilter):
    field_class = ScoreRangeField


class ContactFilterSet(WagtailFilterSet):
    lifecycle_stage = django_filters.ChoiceFilter(
        label=_("Lifecycle stage"), choices=lifecycle_choices
    )
    journey_stage = django_filters.ChoiceFilter(
        label=_("Journey stage"), choices=JourneyStage.choices
    )
    segment = django_filters.ModelChoiceFilter(
        label=_("Segment"), queryset=_segments, method="filter_segment"
    )
    tag = django_filters.ModelChoiceFilter(
        label=_("Tag"), queryset=_tags, method="filter_tag", to_field_name="slug"
    )
    consent = django_filters.ChoiceFilter(
        label=_("Consent"), choices=consent_choices, method="filter_consent"
    )
    owner = OwnerFilter(label=_("Owner"), queryset=_owners)
    score = ScoreRangeFilter(label=_("Score"), widget=ScoreRangeWidget)
    source = django_filters.CharFilter(
        label=_("First-touch source"), method="filter_first_touch", max_length=100
    )
    campaign = django_filters.CharFilter(
        label=_("First-touch campaign"), method="filter_first_touch", max_length=100
    )
    created_at = django_filters.DateFromToRangeFilter(
        label=_("Created"), widget=DateRangePickerWidget
    )
    last_activity_at = django_filters.DateFromToRangeFilter(
        label=_("Last activity"), widget=DateRangePickerWidget
    )

    class Meta:
        model = Contact
        fields = []

    def filter_segment(self, queryset, name, segment):
        members = SegmentMembership.objects.filter(segment=segment).values("contact_id")
        return queryset.filter(pk__in=members)

    def filter_tag(self, queryset, name, tag):
        tagged = TaggedContact.objects.filter(tag=tag).values("content_object_id")
        return queryset.filter(pk__in=tagged)

    def filter_consent(self, queryset, name, value):
        from wagtail_journey.privacy.consent import contacts_with_consent

        key, _sep, state = value.rpartition(":")
        consented = Q(pk__in=contacts_with_consent(key).values("pk"))
        return queryset.filter(consented if state == "granted" else ~consented)

    def filter_first_touch(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(**{f"first_touch__{name}__iexact": value})
