"""Public privacy views: double opt-in confirmation."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from wagtail_journey.privacy.double_opt_in import InvalidToken, confirm, read_token
from wagtail_journey.tracking.visitors import visitor_from_request


@never_cache
@require_http_methods(["GET", "POST"])
def confirm_consent(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a confirm button; POST confirms. A bad link reveals nothing."""
    template = "wagtail_journey/privacy/confirm.html"
    try:
        record = read_token(token)
    except InvalidToken:
        return TemplateResponse(request, template, {"state": "invalid"}, status=400)
    if request.method == "POST":
        try:
            record, _new = confirm(token, visitor=visitor_from_request(request))
        except InvalidToken:
            return TemplateResponse(request, template, {"state": "invalid"}, status=400)
        return TemplateResponse(request, template, {"state": "confirmed", "record": record})
    state = "already" if record.confirmed_at else "ask"
    return TemplateResponse(request, template, {"state": state, "record": record})
