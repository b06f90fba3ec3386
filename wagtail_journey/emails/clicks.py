"""Click tracking: signed redirect links, the click as a touchpoint, scanners told apart.

A tracked link is ``<site>/journey/email/click/<token>/``; the token signs
the message id and the target URL, so the redirect only ever goes where a
template pointed (no open redirect: a URL nobody signed is refused), and it
carries the time the link was made, which is when the message was rendered
for sending.

A click on a link sent to an address proves that the clicking browser's user
reads that mailbox: the browser (when it accepted tracking) is joined to the
contact. Security gateways and link scanners fetch every link of a message
as it arrives; such clicks are recorded with the touchpoint property
``machine`` (events.MACHINE_MADE) and no reaction runs for them: they do not
score, count as engagement or trigger flows, and they identify nobody.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.apps import apps
from django.core import signing
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from wagtail_journey.conf import journey_settings
from wagtail_journey.links import absolute_url, site_root_url

SALT = "wagtail_journey.email_click"
KIND = "email_clicked"
#: Longest URL kept in the touchpoint's properties.
MAX_URL = 500

_signer = signing.TimestampSigner(salt=SALT)


class InvalidClick(Exception):
    """The token is forged or damaged (the visitor is told nothing more)."""


@dataclass(frozen=True)
class Click:
    outbound_id: int
    url: str
    made_at: float  # when the link was made (the message was rendered), Unix time


def tracked_url(outbound_id: int, url: str) -> str:
    """The redirect link for ``url`` in message ``outbound_id``, from the site's root URL.

    Called for every link of every message of a broadcast: the URL around the
    token is resolved once per URL configuration, not once per link.
    """
    token = _signer.sign_object({"o": outbound_id, "u": url})
    head, tail = _click_url_parts(site_root_url(), get_urlconf(), get_script_prefix())
    return f"{head}{token}{tail}"


@lru_cache(maxsize=8)
def _click_url_parts(root: str, urlconf: str | None, script_prefix: str) -> tuple[str, str]:
    url = absolute_url(reverse("wagtail_journey:email_click", args=["0"], urlconf=urlconf))
    head, tail = url.rsplit("0", 1)
    return head, tail


def read_click(token: str) -> Click:
    """The click behind ``token``; raises :class:`InvalidClick` for anything not signed by us."""
    try:
        data = _signer.unsign_object(token)
        made_at = signing.b62_decode(token.rsplit(":", 2)[1])
    except (signing.BadSignature, ValueError, IndexError):
        raise InvalidClick from None
    if not isinstance(data, dict):
        raise InvalidClick
    outbound_id, url = data.get("o"), data.get("u")
    if not isinstance(outbound_id, int) or not isinstance(url, str):
        raise InvalidClick
    if not url.lower().startswith(("https://", "http://")):
        raise InvalidClick  # only web links were ever wrapped
    return Click(outbound_id, url, float(made_at))


def machine_reason(user_agent: str | None, seconds_since_sent: float) -> str:
    """Why a click looks machine-made ("" when it looks human)."""
    from wagtail_journey.tracking.useragent import is_bot

    ua = (user_agent or "").strip().lower()
    if not ua:
        return "no_user_agent"
    if any(fragment in ua for fragment in journey_settings.EMAIL_SCANNER_USER_AGENTS):
        return "scanner"
    if is_bot(ua):
        return "bot"
    if seconds_since_sent <= journey_settings.EMAIL_MACHINE_CLICK_SECONDS:
        return "too_soon"
    return ""


def _recipient(outbound_id: int) -> tuple[Any, float | None] | None:
    """(contact, sent time) of an outbound message; None when there is no contact
    to credit (a test send, an erased contact, a message deleted since)."""
    try:
        model = apps.get_model("wagtail_journey", "OutboundEmail")
    except LookupError:  # the delivery side is not installed
        return None
    row = model.objects.select_related("contact").filter(pk=outbound_id).first()
    if row is None or row.contact is None:
        return None
    return row.contact, (row.sent_at.timestamp() if row.sent_at else None)


def record_click(
    request: HttpRequest, click: Click, contact: Any, sent_at: float | None = None
) -> Any:
    """Record ``email_clicked`` for ``contact`` and join the browser to it when
    the click looks human and the link is recent. Returns the touchpoint."""
    from wagtail_journey.events import MACHINE_MADE, record
    from wagtail_journey.tracking.visitors import visitor_from_request

    now = time.time()
    # A scanner may click before the sender even stored the sent time.
    since_sent = now - (sent_at if sent_at is not None else click.made_at)
    reason = machine_reason(request.META.get("HTTP_USER_AGENT"), since_sent)
    properties: dict[str, Any] = {"outbound_email": click.outbound_id, "url": click.url[:MAX_URL]}
    if reason:
        properties[MACHINE_MADE] = True
        properties["machine_reason"] = reason
    proves = (
        not reason and now - click.made_at <= journey_settings.EMAIL_CLICK_IDENTIFY_DAYS * 86400
    )
    visitor = visitor_from_request(request) if proves else None
    if visitor is not None and visitor.audience_only:
        visitor = None
    from wagtail_journey.emails.stats import note_engagement
    from wagtail_journey.events import is_machine_made

    with transaction.atomic():
        if proves:
            _prove_control(visitor, contact)
        touchpoint = record(
            KIND, contact=contact, visitor=visitor, properties=properties, identify=False
        )
        note_engagement(click.outbound_id, KIND, is_machine_made(touchpoint), timezone.now())
        return touchpoint


def _prove_control(visitor: Any, contact: Any) -> None:
    """A human click on a recent link proves control of the address: the
    browser becomes the contact's. identity.prove_control (the identity
    rule's one entry point: it also marks the address confirmed) where the
    installed version has it, else the stitching itself."""
    from wagtail_journey import identity

    prove = getattr(identity, "prove_control", None)
    if prove is not None:
        prove(visitor, contact, "email_link")
    elif visitor is not None:
        identity.identify_visitor(visitor, contact)


@never_cache
@require_safe
def click_view(request: HttpRequest, token: str) -> HttpResponse:
    """Redirect to the signed URL; a GET records the click (a HEAD, always a
    program's, does not). A bad token gets a page that reveals nothing."""
    try:
        click = read_click(token)
    except InvalidClick:
        return TemplateResponse(request, "wagtail_journey/emails/invalid_link.html", status=400)
    if request.method == "GET":
        recipient = _recipient(click.outbound_id)
        if recipient is not None:
            record_click(request, click, *recipient)
    return HttpResponseRedirect(click.url)
