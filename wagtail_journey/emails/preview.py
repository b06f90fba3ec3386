"""Previews of an email for editors: the HTML a contact would receive.

Used by Wagtail's live preview panel (the template being edited, unsaved)
and by the admin's "preview with a contact" page. A preview never tracks
clicks and its unsubscribe link goes nowhere. The response may only be shown
in a frame of the admin and runs no script (the email's HTML is the editor's).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.html import escape

from wagtail_journey.emails.rendering import (
    RenderedEmail,
    RenderError,
    compile_email,
    personalisation_context,
    sample_context,
)

#: Session key of the contact an editor chose on the preview page; the live
#: preview panel then shows that contact's data too.
SESSION_CONTACT = "wagtail_journey.email_preview_contact"

CSP = (
    "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; "
    "img-src * data:; style-src 'unsafe-inline'"
)


def preview_context(contact: Any | None) -> dict[str, str]:
    return personalisation_context(contact) if contact is not None else sample_context()


def render_preview(template: Any, contact: Any | None = None) -> RenderedEmail:
    """``template`` as ``contact`` (or a made-up person) would receive it, untracked."""
    return compile_email(template).personalise(preview_context(contact), None)


def chosen_contact(request: HttpRequest) -> Any | None:
    from wagtail_journey.models import Contact

    contact_id = request.session.get(SESSION_CONTACT) if hasattr(request, "session") else None
    if not contact_id:
        return None
    return Contact.objects.filter(pk=contact_id).first()


def frame_response(body: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = CSP
    response["X-Frame-Options"] = "SAMEORIGIN"
    response["Cache-Control"] = "private, no-store"
    return response


def preview_response(template: Any, request: HttpRequest) -> HttpResponse:
    """Wagtail's live preview of ``template``: the chosen contact, else sample data."""
    try:
        body = render_preview(template, chosen_contact(request)).html
    except RenderError as exc:
        body = error_page(exc)
    return frame_response(body)


def error_page(exc: RenderError) -> str:
    """What a preview frame shows when the template cannot be laid out."""
    return f'<p role="alert" style="font:16px sans-serif;color:#b91c1c">{escape(str(exc))}</p>'
