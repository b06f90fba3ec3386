"""Template tags for the public pages: styles, the analytics consent banner, journey.js.

{% load journey_tracking %}
{% journey_styles %}           {# in <head>: the blocks', forms' and banner's stylesheets #}
{% journey_consent_banner %}   {# once per page, in <body> (shown at the bottom of the screen) #}
{% journey_consent_link %}     {# e.g. in the footer: the cookie settings (reopens the banner) #}
{% journey_consented_script "analytics" src="https://..." %}  {# loaded once granted #}
{% journey_script %}           {# once per page, before </body> #}

Everything is static files (no inline script or style), so the tags work under a
strict Content-Security-Policy; see docs/tracking.md and docs/landing-pages.md.

They run on every page view, so they cost what the page view costs (issue 9: the
tracked page view within 10 % of the untracked one): the banner, the reopen link
and the stylesheet links depend only on the language and settings, so each is
rendered from its template once per process and reused; the script tag is one
``format_html``.
"""

from django import template
from django.conf import settings
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import get_script_prefix, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from wagtail_journey.conf import journey_settings
from wagtail_journey.tracking.cookie_consent import check_category, offered

register = template.Library()

#: Rendered templates by (template, language, context); bounded, per process.
_RENDERED: dict[tuple, SafeString] = {}
_RENDERED_MAX = 256


def _rendered_once(template_name: str, **context) -> SafeString:
    """``template_name`` rendered with ``context`` (hashable values), once per language.

    A site overriding the template still gets its own; with ``DEBUG`` on, every call
    renders again so template edits show at once.
    """
    key = (template_name, get_language(), tuple(sorted(context.items())))
    html = None if settings.DEBUG else _RENDERED.get(key)
    if html is None:
        html = mark_safe(render_to_string(template_name, context))  # noqa: S308 (a template's output)
        if len(_RENDERED) < _RENDERED_MAX:
            _RENDERED[key] = html
    return html


def _state(request):
    state = getattr(request, "_wj_state", None) if request is not None else None
    if state is None and request is not None:
        from wagtail_journey.tracking import visitors

        # Not a tracked Wagtail page view (e.g. a plain Django view): decide
        # without creating a visitor.
        state = visitors.resolve(request, create=False)
    return state


#: (journey.js URL, collect endpoint) by script prefix, per process.
_SCRIPT_URLS: dict[str, tuple[str, str]] = {}


def _script_urls() -> tuple[str, str]:
    prefix = get_script_prefix()
    urls = _SCRIPT_URLS.get(prefix)
    if urls is None or settings.DEBUG:
        urls = (static("wagtail_journey/journey.js"), reverse("wagtail_journey:collect"))
        _SCRIPT_URLS[prefix] = urls
    return urls


@register.simple_tag(takes_context=True)
def journey_script(context) -> SafeString:
    """The journey.js tag, with what it needs to know in data attributes."""
    request = context.get("request")
    page = context.get("page")
    state = _state(request)
    enabled = journey_settings.TRACKING_ENABLED
    # The editor's preview neither tracks nor asks editors for consent.
    preview = bool(getattr(request, "is_preview", False))
    track = bool(enabled and not preview and state is not None and state.per_visitor)
    unanswered = request is not None and (
        request.COOKIES.get(journey_settings.CONSENT_COOKIE_NAME) is None
        or (
            journey_settings.CONSENT_CATEGORIES
            and request.COOKIES.get(journey_settings.CONSENT_CATEGORIES_COOKIE_NAME) is None
        )
    )
    ask = bool(
        enabled
        and not preview
        and state is not None
        and state.level in ("anonymous", "audience")
        and unanswered
    )
    return format_html(
        '<script src="{}" data-endpoint="{}" data-page="{}" data-track="{}" data-ask="{}" '
        'data-consent-cookie="{}" defer></script>',
        *_script_urls(),
        getattr(page, "pk", "") or "",
        "1" if track else "0",
        "1" if ask else "0",
        journey_settings.CONSENT_COOKIE_NAME,
    )


@register.simple_tag(takes_context=True)
def journey_consent_banner(context) -> SafeString:
    """The banner (hidden until journey.js asks) and its script, journey-consent.js.

    Nothing with tracking off: the choice would not be recorded, so neither the banner
    nor its reopen buttons (left hidden without the script) may offer one.
    """
    request = context.get("request")
    # Not in the editor's preview: editors are not visitors to ask.
    preview = bool(getattr(request, "is_preview", False))
    enabled = bool(journey_settings.TRACKING_ENABLED and not preview)
    # With categories configured (CONSENT_CATEGORIES) the banner is a form listing
    # them; without (the default) nothing more is read: no query per page view.
    categories = offered() if enabled else ()
    return _rendered_once(
        "wagtail_journey/tracking/consent_banner.html",
        enabled=enabled,
        cookie_name=journey_settings.CONSENT_COOKIE_NAME,
        categories=categories,
        categories_cookie=journey_settings.CONSENT_CATEGORIES_COOKIE_NAME if categories else "",
        action=_cookie_settings_url() if categories else "",
    )


#: The cookie-settings page's URL by script prefix, per process.
_SETTINGS_URLS: dict[str, str] = {}


def _cookie_settings_url() -> str:
    prefix = get_script_prefix()
    url = _SETTINGS_URLS.get(prefix)
    if url is None or settings.DEBUG:
        url = _SETTINGS_URLS[prefix] = reverse("wagtail_journey:cookie_settings")
    return url


@register.simple_tag
def journey_consent_link(label: str | SafeString = "") -> SafeString:
    """A link to the cookie settings; journey-consent.js opens the banner in place instead.

    A plain link, so the choice can be changed without JavaScript (a form on that page).
    Nothing with tracking off: there is no choice to make.
    """
    return _rendered_once(
        "wagtail_journey/tracking/consent_link.html",
        label=label,
        enabled=bool(journey_settings.TRACKING_ENABLED),
        url=_cookie_settings_url(),
    )


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


@register.simple_tag
def journey_styles(*parts: str) -> SafeString:
    """<link> tags for the package's stylesheets: all, or only ``"blocks"``/``"consent"``."""
    unknown = set(parts) - set(STYLESHEETS)
    if unknown:
        raise template.TemplateSyntaxError(
            f"journey_styles takes {' or '.join(map(repr, STYLESHEETS))}, not {sorted(unknown)}"
        )
    return _rendered_once(
        "wagtail_journey/tracking/styles.html",
        stylesheets=tuple(path for part, path in STYLESHEETS.items() if not parts or part in parts),
    )
