"""Which cookie categories a browser has granted, for sites that load third-party scripts.

The banner asks one question today, analytics (the ``wj_c`` consent cookie, see
tracking/visitors.py); "necessary" covers what a site needs to work and is always
granted. ``{% journey_consented_script %}`` (templatetags/journey_tracking.py) is the
browser-side twin: it leaves a script inert until its category is granted.
"""

from __future__ import annotations

from django.http import HttpRequest

from wagtail_journey.conf import journey_settings

#: The categories a site can gate scripts on.
CATEGORIES = ("necessary", "analytics")


def check_category(category: str) -> str:
    if category not in CATEGORIES:
        raise ValueError(f"Unknown consent category {category!r}; known: {', '.join(CATEGORIES)}")
    return category


def cookie_consent_granted(request: HttpRequest, category: str) -> bool:
    """True when this browser granted ``category`` (always for "necessary").

    The answer depends on a cookie: a response built from it must not be shared between
    visitors (``django.utils.cache.patch_vary_headers(response, ["Cookie"])``).
    """
    if check_category(category) == "necessary":
        return True
    return request.COOKIES.get(journey_settings.CONSENT_COOKIE_NAME) == "1"
