"""Which cookie categories a browser has granted, and recording a choice of categories.

Categories: ``necessary`` (what the site needs to work; always granted, never
asked), ``analytics`` (the ``wj_c`` consent cookie, see tracking/visitors.py),
and whatever ``WAGTAIL_JOURNEY["CONSENT_CATEGORIES"]`` adds (``functionality``,
``marketing`` ...), each mapped to a ConsentPurpose whose name and text the
banner shows. The extra categories' answers live in one cookie
(``CONSENT_CATEGORIES_COOKIE_NAME``, ``wj_cc``): the granted names separated
by dots, ``-`` for none.

With no extra category configured (the default) nothing here reads the
database: the banner asks about analytics only, as before, and a page view
costs what it did.

``{% journey_consented_script %}`` (templatetags/journey_tracking.py) is the
browser-side twin of :func:`cookie_consent_granted`: it leaves a script inert
until its category is granted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.utils.html import strip_tags
from django.utils.translation import gettext_lazy as _

from wagtail_journey.conf import journey_settings

NECESSARY = "necessary"
ANALYTICS = "analytics"
#: What a category is called when no purpose gives it a name.
DEFAULT_LABELS = {
    NECESSARY: _("Strictly necessary"),
    ANALYTICS: _("Analytics"),
    "functionality": _("Functionality"),
    "marketing": _("Marketing and advertising"),
}
#: Seconds a process keeps the categories' purposes (names and texts) it read.
PURPOSE_CACHE_SECONDS = 60


def extra_categories() -> tuple[str, ...]:
    """The configured categories beyond necessary and analytics, in their configured order."""
    return tuple(k for k in journey_settings.CONSENT_CATEGORIES if k not in (NECESSARY, ANALYTICS))


def categories() -> tuple[str, ...]:
    """Every category a site can gate scripts on."""
    return (NECESSARY, ANALYTICS, *extra_categories())


def check_category(category: str) -> str:
    known = categories()
    if category not in known:
        raise ValueError(f"Unknown consent category {category!r}; known: {', '.join(known)}")
    return category


def granted_extras(request: HttpRequest) -> set[str] | None:
    """The extra categories this browser granted; None when it has not answered yet."""
    raw = request.COOKIES.get(journey_settings.CONSENT_CATEGORIES_COOKIE_NAME)
    if raw is None:
        return None
    return {c for c in raw.split(".") if c in extra_categories()}


def cookie_consent_granted(request: HttpRequest, category: str) -> bool:
    """True when this browser granted ``category`` (always for "necessary").

    The answer depends on a cookie: a response built from it must not be shared between
    visitors (``django.utils.cache.patch_vary_headers(response, ["Cookie"])``).
    """
    if check_category(category) == NECESSARY:
        return True
    if category == ANALYTICS:
        return request.COOKIES.get(journey_settings.CONSENT_COOKIE_NAME) == "1"
    return category in (granted_extras(request) or ())


@dataclass(frozen=True)
class Category:
    """One category as the banner shows it (hashable: the banner is rendered once per process)."""

    key: str
    label: str
    text: str
    purpose_id: int | None


_purposes: dict[str, tuple[float, tuple]] = {}


def offered() -> tuple[Category, ...]:
    """The categories the banner asks about (analytics first), with their purposes' texts.

    Empty when no extra category is configured (the analytics-only banner). One
    query per process and PURPOSE_CACHE_SECONDS otherwise.
    """
    mapping = journey_settings.CONSENT_CATEGORIES
    if not mapping:
        return ()
    key = repr(sorted(mapping.items()))
    found = _purposes.get(key)
    if found is None or found[0] < time.monotonic():
        from wagtail_journey.models import ConsentPurpose

        by_key = {p.key: p for p in ConsentPurpose.objects.filter(key__in=mapping.values())}
        rows = []
        for cat in (ANALYTICS, *extra_categories()):
            purpose = by_key.get(mapping.get(cat, ""))
            rows.append(
                (
                    cat,
                    purpose.name if purpose else "",
                    strip_tags(purpose.text).strip() if purpose else "",
                    purpose.pk if purpose else None,
                )
            )
        found = (time.monotonic() + PURPOSE_CACHE_SECONDS, tuple(rows))
        _purposes[key] = found
    return tuple(
        Category(cat, name or str(DEFAULT_LABELS.get(cat, cat.capitalize())), text, pk)
        for cat, name, text, pk in found[1]
    )


def clear_cache() -> None:
    _purposes.clear()


def record_choice(request: HttpRequest, response: HttpResponse, granted: set[str]) -> None:
    """Apply a choice of categories: cookies on ``response``, the analytics visitor,
    and a ConsentRecord per mapped category for a browser that belongs to a contact.

    Analytics goes through the same path as journey.js's consent call
    (visitors.grant_consent / withdraw_consent). A browser not (yet) linked to a
    contact keeps its choice in its cookies only.
    """
    from wagtail_journey.tracking import visitors

    # Read before a withdrawal unlinks the browser from its visitor (required mode).
    known = visitors.visitor_from_request(request)
    analytics = ANALYTICS in granted
    state = visitors.grant_consent(request) if analytics else visitors.withdraw_consent(request)
    visitors.apply_cookies(state, request, response)
    extras = [c for c in extra_categories() if c in granted]
    response.set_cookie(
        journey_settings.CONSENT_CATEGORIES_COOKIE_NAME,
        ".".join(extras) or "-",
        max_age=journey_settings.CONSENT_COOKIE_AGE_DAYS * 86400,
        secure=request.is_secure(),
        samesite="Lax",
        path="/",
        httponly=False,  # journey-consent.js reads it to load gated scripts
    )
    visitor = known or state.visitor
    if visitor is not None and visitor.contact_id is not None:
        _record(request, visitor.contact, granted)


def _record(request: HttpRequest, contact, granted: set[str]) -> None:
    """One ConsentRecord per mapped category whose answer changes the contact's state."""
    from wagtail_journey.models import ConsentPurpose, ConsentRecord
    from wagtail_journey.privacy.consent import has_consent, record_consent
    from wagtail_journey.privacy.proof import ip_for_proof, user_agent
    from wagtail_journey.ratelimit import client_ip

    mapping = journey_settings.CONSENT_CATEGORIES
    purposes = {p.key: p for p in ConsentPurpose.objects.filter(key__in=mapping.values())}
    for category, purpose_key in mapping.items():
        purpose = purposes.get(purpose_key)
        if purpose is None:
            continue
        grant = category in granted
        if grant == has_consent(contact, purpose.key):
            continue
        record_consent(
            contact,
            purpose,
            ConsentRecord.Action.GRANTED if grant else ConsentRecord.Action.WITHDRAWN,
            method=ConsentRecord.Method.COOKIE_BANNER,
            source_url=(request.META.get("HTTP_REFERER") or "")[:500],
            ip_address=ip_for_proof(client_ip(request)),
            user_agent=user_agent(request),
        )
