"""Filters for the admin templates: the same wording as the listings (admin/display.py)."""

from django import template

from wagtail_journey.admin import display
from wagtail_journey.kinds import kind_label as _kind_label

register = template.Library()

register.filter("when", display.when)
register.filter("touch_text", display.touch_text)
register.filter("kind_label", _kind_label)


@register.filter
def stat(counts: dict, key: str) -> int:
    """``counts[key]`` (0 when missing): one cell of the email statistics."""
    return counts.get(key, 0)


@register.filter
def percent(value: float) -> str:
    """A rate as a percentage with one decimal, in the active language's format."""
    from django.utils.formats import number_format

    return f"{number_format(value * 100, 1)} %"
