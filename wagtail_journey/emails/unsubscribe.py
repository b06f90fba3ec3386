"""One-click unsubscribe: signed links, RFC 8058 headers, and the endpoint behind them.

Every marketing message carries a visible unsubscribe link and the headers
``List-Unsubscribe: <https://.../journey/unsubscribe/TOKEN/>`` (plus a mailto:
URL where configured) and ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``.
The token is opaque (the message's row id, signed and timestamped): it holds no
address. The endpoint withdraws consent on POST only, without login or cookies,
answering 200 with no redirect (RFC 8058); a GET shows a page with a button,
because mail scanners fetch every link and must not unsubscribe anyone.
A forged, damaged or expired token gets the same page whatever went wrong.
"""

from __future__ import annotations

from django.core import signing
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from wagtail_journey.conf import journey_settings
from wagtail_journey.links import public_url
from wagtail_journey.models import ConsentRecord, OutboundEmail

SALT = "wagtail_journey.unsubscribe"
TEMPLATE = "wagtail_journey/emails/unsubscribe.html"


class InvalidToken(Exception):
    """Forged, damaged or expired: the visitor is told nothing more."""


def make_token(outbound_id: int) -> str:
    return signing.TimestampSigner(salt=SALT).sign(signing.b62_encode(outbound_id))


def read_token(token: str) -> int:
    max_age = journey_settings.UNSUBSCRIBE_MAX_AGE_DAYS * 86400
    try:
        value = signing.TimestampSigner(salt=SALT).unsign(token, max_age=max_age)
        return signing.b62_decode(value)
    except (signing.BadSignature, ValueError):  # BadSignature includes SignatureExpired
        raise InvalidToken from None


def unsubscribe_url(outbound_id: int) -> str:
    # From the site's configured root URL, never the request's Host header.
    return public_url(reverse("wagtail_journey:unsubscribe", args=[make_token(outbound_id)]))


def headers(outbound_id: int, url: str | None = None) -> dict[str, str]:
    """The RFC 2369 / RFC 8058 headers for one message (``url``: its unsubscribe URL)."""
    urls = [f"<{url or unsubscribe_url(outbound_id)}>"]
    mailto = journey_settings.UNSUBSCRIBE_MAILTO
    if mailto:
        urls.append(f"<mailto:{mailto}?subject=unsubscribe-{make_token(outbound_id)}>")
    return {
        "List-Unsubscribe": ", ".join(urls),
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def withdraw(outbound_id: int) -> bool:
    """Withdraw the consent the message relied on; True if a withdrawal was recorded.

    Idempotent: a second POST (mail clients retry) records nothing more.
    """
    from wagtail_journey.emails.stats import note_engagement
    from wagtail_journey.events import record
    from wagtail_journey.privacy.consent import has_consent, record_consent

    row = (
        OutboundEmail.objects.select_related("contact", "purpose")
        .filter(pk=outbound_id, contact__isnull=False, purpose__isnull=False)
        .first()
    )
    if row is None:
        return False
    with transaction.atomic():
        if not has_consent(row.contact, row.purpose.key):
            return False
        record_consent(
            row.contact,
            row.purpose,
            ConsentRecord.Action.WITHDRAWN,
            method=ConsentRecord.Method.UNSUBSCRIBE,
        )
        record(
            "unsubscribed",
            contact=row.contact,
            properties={"purpose": row.purpose.key, "outbound_email": row.pk},
            dedupe_key=f"unsubscribe:{row.pk}",
        )
        note_engagement(row.pk, "unsubscribed", False, timezone.now())
    return True


@csrf_exempt  # RFC 8058: the mail client posts without cookies or a form token
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe_view(request: HttpRequest, token: str) -> HttpResponse:
    """GET: a page with a button. POST: unsubscribe at once, 200, no redirect."""
    try:
        outbound_id = read_token(token)
    except InvalidToken:
        return TemplateResponse(request, TEMPLATE, {"state": "invalid"}, status=400)
    if request.method == "POST":
        withdraw(outbound_id)
        return TemplateResponse(request, TEMPLATE, {"state": "done"})
    purpose = (
        OutboundEmail.objects.filter(pk=outbound_id).values_list("purpose__name", flat=True).first()
    )
    return TemplateResponse(request, TEMPLATE, {"state": "ask", "purpose": purpose or ""})
