"""Filters for the admin templates: the same wording as the listings (admin/display.py)."""

from django import template

from wagtail_journey.admin import display
from wagtail_journey.kinds import kind_label as _kind_label

register = template.Library()

register.filter("when", display.when)
register.filter("touch_text", display.touch_text)
register.filter("kind_label", _kind_label)
