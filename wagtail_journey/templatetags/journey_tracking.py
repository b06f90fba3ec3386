"""Template tags for the public pages: styles, the analytics consent banner, journey.js.

{% load journey_tracking %}
{% journey_styles %}           {# in <head>: the blocks', forms' and banner's stylesheets #}
{% journey_consent_banner %}   {# once per page, in <body> (shown at the bottom of the screen) #}
{% journey_consent_link %}     {# e.g. in the footer: reopens the banner to change the choice #}
{% journey_consented_script "analytics" src="https://..." %}  {# loaded once granted #}
{% journey_script %}           {# once per page, before </body> #}

Everything is static files (no inline script or style), so the tags work under a
strict Content-Security-Policy; see docs/tracking.md and docs/landing-pages.md.
"""

from django import template
from django.urls import reverse
from django.utils.safestring import SafeString

from wagtail_journey.conf import journey_settings
from wagtail_journey.tracking.cookie_consent import check_category

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
    return {
        "endpoint": reverse("wagtail_journey:collect"),
        "page_id": getattr(page, "pk", "") or "",
        "track": bool(enabled and state is not None and state.per_visitor),
        "ask": bool(
            enabled
            and state is not None
            and state.level in ("anonymous", "audience")
            and request.COOKIES.get(journey_settings.CONSENT_COOKIE_NAME) is None
        ),
    }


@register.inclusion_tag("wagtail_journey/tracking/consent_banner.html", takes_context=True)
def journey_consent_banner(context) -> dict:
    """The banner (hidden until journey.js asks) and its script, journey-consent.js.

    Nothing with tracking off: the choice would not be recorded, so neither the banner
    nor its reopen buttons (left hidden without the script) may offer one.
    """
    return {
        "enabled": journey_settings.TRACKING_ENABLED,
        "request": context.get("request"),
        "cookie_name": journey_settings.CONSENT_COOKIE_NAME,
    }


@register.inclusion_tag("wagtail_journey/tracking/consent_link.html")
def journey_consent_link(label: str | SafeString = "") -> dict:
    """A button that reopens the consent banner; shown only where the banner can open."""
    return {"label": label}


@register.inclusion_tag("wagtail_journey/tracking/consented_script.html")
def journey_consented_script(category: str, src: str) -> dict:
    """A script loaded only once its consent ``category`` is granted.

    Rendered inert (``type="text/plain"``) whatever the visitor's choice, so the page can
    be cached and shared; journey-consent.js (the banner's script) loads it when the
    consent cookie grants the category, or at once when the visitor accepts.
    """
    try:
        check_category(category)
    except ValueError as error:
        raise template.TemplateSyntaxError(str(error)) from error
    return {"category": category, "src": src}


#: What ``{% journey_styles %}`` links: the blocks and forms, and the banner.
STYLESHEETS = {
    "blocks": "wagtail_journey/journey.css",
    "consent": "wagtail_journey/journey-consent.css",
}


@register.inclusion_tag("wagtail_journey/tracking/styles.html")
def journey_styles(*parts: str) -> dict:
    """<link> tags for the package's stylesheets: all, or only ``"blocks"``/``"consent"``."""
    unknown = set(parts) - set(STYLESHEETS)
    if unknown:
        raise template.TemplateSyntaxError(
            f"journey_styles takes {' or '.join(map(repr, STYLESHEETS))}, not {sorted(unknown)}"
        )
    return {
        "stylesheets": [path for part, path in STYLESHEETS.items() if not parts or part in parts]
    }
