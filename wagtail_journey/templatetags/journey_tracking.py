"""Template tags to include journey.js and the analytics consent banner.

{% load journey_tracking %}
{% journey_consent_banner %}   {# where the banner should appear (optional) #}
{% journey_script %}           {# once per page, before </body> #}
"""

from django import template
from django.urls import reverse

from wagtail_journey.conf import journey_settings

register = template.Library()


def _state(request):
    state = getattr(request, "_wj_state", None) if request is not None else None
    if state is None and request is not None:
        from wagtail_journey.tracking import visitors

        # Not a tracked Wagtail page view (e.g. a plain Django view): decide
        # without creating a visitor.
        state = visitors.resolve(request, create=False)
    return state


@register.inclusion_tag("wagtail_journey/tracking/script.html", takes_context=True)
def journey_script(context):
    request = context.get("request")
    page = context.get("page")
    state = _state(request)
    enabled = journey_settings.TRACKING_ENABLED
    # The editor's preview neither tracks nor asks editors for consent.
    preview = bool(getattr(request, "is_preview", False))
    return {
        "endpoint": reverse("wagtail_journey:collect"),
        "page_id": getattr(page, "pk", "") or "",
        "consent_cookie": journey_settings.CONSENT_COOKIE_NAME,
        "track": bool(enabled and not preview and state is not None and state.per_visitor),
        "ask": bool(
            enabled
            and not preview
            and state is not None
            and state.level in ("anonymous", "audience")
            and request.COOKIES.get(journey_settings.CONSENT_COOKIE_NAME) is None
        ),
    }


@register.inclusion_tag("wagtail_journey/tracking/consent_banner.html", takes_context=True)
def journey_consent_banner(context):
    request = context.get("request")
    # Not in the editor's preview: editors are not visitors to ask.
    return {"request": request, "hidden": bool(getattr(request, "is_preview", False))}
