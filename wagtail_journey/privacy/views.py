"""Public privacy views: double opt-in confirmation."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from wagtail_journey.privacy.double_opt_in import InvalidToken, UsedToken, confirm, read_token
from wagtail_journey.tracking.visitors import visitor_from_request


@never_cache
@require_http_methods(["GET", "POST"])
def confirm_consent(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a confirm button; POST confirms. A bad link reveals nothing.

    A link works once: after confirmation it answers 410 with a neutral
    message, and a replayed POST records nothing and links no browser.
    """
    template = "wagtail_journey/privacy/confirm.html"
    try:
        record = read_token(token)
        if record.confirmed_at is not None:
            raise UsedToken
        if request.method == "POST":
            record, _new = confirm(token, visitor=visitor_from_request(request))
            return TemplateResponse(request, template, {"state": "confirmed", "record": record})
    except UsedToken:
        return TemplateResponse(request, template, {"state": "used"}, status=410)
    except InvalidToken:
        return TemplateResponse(request, template, {"state": "invalid"}, status=400)
    return TemplateResponse(request, template, {"state": "ask", "record": record})
