"""The baseline site's ``journey_tracking`` tag library: the same tags, rendering nothing.

The demo templates ``{% load journey_tracking %}``; the baseline site has no
wagtail_journey, so bench/settings_baseline.py registers this module under
that name and the same templates render there without journey.js or banner.
"""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def journey_script(context):
    return ""


@register.simple_tag(takes_context=True)
def journey_consent_banner(context):
    return ""


@register.simple_tag(takes_context=True)
def journey_consent_link(context, label=""):
    return ""


@register.simple_tag(takes_context=True)
def journey_styles(context, *parts):
    return ""


@register.simple_tag(takes_context=True)
def journey_consented_script(context, category, src=""):
    return ""
