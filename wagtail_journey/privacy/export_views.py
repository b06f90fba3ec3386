"""Public export endpoints: the single-use download link and the published schema."""

from __future__ import annotations

from django.http import FileResponse, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from wagtail_journey.privacy.export import InvalidToken, consume, published_schema, read_token

TEMPLATE = "wagtail_journey/privacy/export_download.html"


@never_cache
@require_http_methods(["GET", "POST"])
def export_download(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a download button; POST downloads, once.

    A button rather than a direct download: mail scanners follow links in
    emails, and a single-use link they opened would be spent. A forged,
    expired or used link gets the same neutral answer (410), which says
    nothing about whether an address or an export exists.
    """
    try:
        if request.method == "POST":
            export, file = consume(token)
            response = FileResponse(
                file,
                as_attachment=True,
                filename=f"personal-data-{export.reference}.zip",
                content_type="application/zip",
            )
            response["X-Robots-Tag"] = "noindex"
            return response
        read_token(token)
    except InvalidToken:
        return TemplateResponse(request, TEMPLATE, {"state": "invalid"}, status=410)
    except OSError:  # the file is gone (deleted by the schedule meanwhile)
        return TemplateResponse(request, TEMPLATE, {"state": "invalid"}, status=410)
    return TemplateResponse(request, TEMPLATE, {"state": "ask"})


@require_GET
def export_schema(request: HttpRequest) -> HttpResponse:
    """The published JSON Schema of the export's data.json."""
    return HttpResponse(published_schema(), content_type="application/schema+json")
