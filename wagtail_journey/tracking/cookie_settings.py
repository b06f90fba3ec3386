"""The cookie-settings page and the endpoint the category banner's form posts to.

Works without JavaScript: the footer link (``{% journey_consent_link %}``) is a
plain link to this page, which shows every category with the current choice
and a form; journey-consent.js opens the banner in place instead when it runs.

The banner is rendered once per process and shared by every page (it cannot
carry a per-visitor CSRF token), so this endpoint is CSRF-exempt and checks
the request's origin instead, as the collect endpoint does: a browser sends
``Origin`` (or ``Sec-Fetch-Site``) with every form POST, and another site's
form cannot make a visitor "accept" here.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from wagtail_journey.conf import journey_settings
from wagtail_journey.tracking import cookie_consent
from wagtail_journey.tracking.collect import origin_allowed

TEMPLATE = "wagtail_journey/tracking/cookie_settings.html"


def _choices(request: HttpRequest) -> list[tuple[cookie_consent.Category, bool]]:
    cats = cookie_consent.offered() or (
        cookie_consent.Category(
            cookie_consent.ANALYTICS, str(cookie_consent.DEFAULT_LABELS["analytics"]), "", None
        ),
    )
    return [(c, cookie_consent.cookie_consent_granted(request, c.key)) for c in cats]


def _next(request: HttpRequest) -> str:
    """Where to go back to: ``next`` or the referring page, on this site only."""
    for candidate in (request.POST.get("next"), request.META.get("HTTP_REFERER")):
        if candidate and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return candidate
    return "/"


@csrf_exempt  # the shared, cached banner posts here: the origin is checked instead
@never_cache
@require_http_methods(["GET", "POST"])
def cookie_settings(request: HttpRequest) -> HttpResponse:
    """GET: the categories and the current choice. POST: record a choice, go back."""
    if not journey_settings.TRACKING_ENABLED:
        return TemplateResponse(request, TEMPLATE, {"disabled": True}, status=404)
    if request.method == "GET":
        context = {"choices": _choices(request), "saved": request.GET.get("saved") == "1"}
        return TemplateResponse(request, TEMPLATE, context)
    if not origin_allowed(request):
        context = {"choices": _choices(request), "error": _("Please choose again on this page.")}
        return TemplateResponse(request, TEMPLATE, context, status=403)
    keys = [c.key for c, _granted in _choices(request)]
    choice = request.POST.get("choice")
    if choice == "all":
        granted = set(keys)
    elif choice == "none":
        granted = set()
    else:
        granted = set(request.POST.getlist("category")) & set(keys)
    target = _next(request)
    if urlsplit(target).path == request.path:  # from this page: show it saved
        target = f"{request.path}?saved=1"
    response = HttpResponseRedirect(target)
    response.status_code = 303
    cookie_consent.record_choice(request, response, granted)
    return response
