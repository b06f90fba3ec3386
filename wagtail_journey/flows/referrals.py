"""Personal referral links: a customer shares a link; each visit through it
records a ``referral`` touchpoint on that customer (the referrer).

The link holds only a signed, timestamped contact id (no address): a forged or
damaged one redirects home and records nothing. The visit records at most one
referral per browser (its visitor cookie, when it has one) and referrer a day,
so a reload counts once.
Emails use it through the ``{{ referral_url }}`` merge tag, computed when the
message is rendered (nothing is stored on the message).
"""

from __future__ import annotations

from django.core import signing
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from wagtail_journey.links import public_url

SALT = "wagtail_journey.referral"
MAX_AGE_DAYS = 730


def make_token(contact_id: int) -> str:
    return signing.TimestampSigner(salt=SALT).sign(signing.b62_encode(contact_id))


def read_token(token: str) -> int | None:
    try:
        value = signing.TimestampSigner(salt=SALT).unsign(token, max_age=MAX_AGE_DAYS * 86400)
        return signing.b62_decode(value)
    except (signing.BadSignature, ValueError):
        return None


def referral_url(contact_id: int) -> str:
    return public_url(reverse("wagtail_journey:referral", args=[make_token(contact_id)]))


@never_cache
@require_GET
def referral_view(request: HttpRequest, token: str) -> HttpResponseRedirect:
    """Record the referral on the referrer, then go to the site's home page."""
    from wagtail_journey.conf import journey_settings
    from wagtail_journey.events import record
    from wagtail_journey.models import Contact

    contact_id = read_token(token)
    contact = (
        Contact.objects.filter(pk=contact_id, erased_at__isnull=True).first()
        if contact_id is not None
        else None
    )
    if contact is not None and contact.restricted_at is None:
        browser = (request.COOKIES.get(journey_settings.VISITOR_COOKIE_NAME) or "")[:64]
        day = timezone.now().date().isoformat()
        key = f"referral:{contact.pk}:{browser or 'anonymous'}:{day}"
        record(
            "referral",
            contact=contact,
            properties={"via": "link"},
            dedupe_key=key[:128],
        )
    return HttpResponseRedirect("/")  # a fixed local path: no open redirect
