"""Shop and server-side events: a Python API and an HMAC-signed HTTP endpoint.

Python (a Django shop in the same project)::

    from wagtail_journey.tracking.shop import record_shop_event
    record_shop_event("order_completed", email=order.email, order_id=order.number,
                      amount=order.total, currency="EUR", request=request)

HTTP (any platform): POST JSON to ``journey/shop/events/`` with the header
``X-Journey-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">``
keyed with WAGTAIL_JOURNEY["SHOP_SECRET"]. Stale timestamps (older or newer
than SHOP_SIGNATURE_MAX_AGE seconds) and replayed signatures are refused; the
same order id is recorded once whatever happens.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from wagtail_journey.conf import journey_settings
from wagtail_journey.models import Contact, Touchpoint, Visitor
from wagtail_journey.ratelimit import client_ip
from wagtail_journey.tracking import jsonbody, ratelimit
from wagtail_journey.tracking.utm import clean_text
from wagtail_journey.tracking.visitors import VISITOR_KEY_RE

SHOP_KINDS = ("cart_updated", "checkout_started", "order_completed", "order_refunded")
SIGNATURE_HEADER = "HTTP_X_JOURNEY_SIGNATURE"
_ID = re.compile(r"^[A-Za-z0-9_.:#/-]{1,64}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


def _amount(value: Any) -> str:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError(_("The amount must be a number."), code="amount") from exc
    if not amount.is_finite() or abs(amount) >= Decimal("1e12"):
        raise ValidationError(_("The amount must be a number."), code="amount")
    return str(amount.quantize(Decimal("0.01")))


def record_shop_event(
    kind: str,
    *,
    email: str | None = None,
    contact: Contact | None = None,
    visitor: Visitor | None = None,
    request: HttpRequest | None = None,
    order_id: str | None = None,
    refund_id: str | None = None,
    event_id: str | None = None,
    amount: Any = None,
    currency: str | None = None,
    properties: Mapping[str, Any] | None = None,
    occurred_at=None,
    authenticated: bool = False,
) -> Touchpoint:
    """Validate a shop event and record it; the same order (or event id) is stored once.

    ``request`` lends its visitor (when it consented to analytics). A guest
    checkout's email proves nothing about the browser (identity.py): the
    browser joins the contact only when the event created it, or with
    ``authenticated=True``, the shop saying its customer signed in on this
    browser (identity.prove_control with ``how="shop_login"``).
    Raises a translated ValidationError on bad input, storing nothing.
    """
    if kind not in SHOP_KINDS:
        raise ValidationError(_("Unknown shop event."), code="kind")
    for label, value in (("order_id", order_id), ("refund_id", refund_id), ("id", event_id)):
        if value is not None and not _ID.match(str(value)):
            raise ValidationError(_("Invalid identifier: %(name)s.") % {"name": label})
    if kind in ("order_completed", "order_refunded") and not order_id:
        raise ValidationError(_("An order event needs an order id."), code="order_id")
    props: dict[str, Any] = {}
    for key, value in (properties or {}).items():
        if isinstance(key, str) and re.match(r"^[a-z_]{1,32}$", key) and len(props) < 10:
            if isinstance(value, bool | int | float) or value is None:
                props[key] = value
            else:
                props[key] = clean_text(str(value), 200)
    if order_id:
        props["order_id"] = str(order_id)
    if amount is not None:
        props["amount"] = _amount(amount)
        currency = (currency or "").upper()
        if not _CURRENCY.match(currency):
            raise ValidationError(_("The currency must be a 3-letter ISO code."), code="currency")
        props["currency"] = currency
    if visitor is None and request is not None:
        from wagtail_journey.tracking.visitors import visitor_from_request

        visitor = visitor_from_request(request)
    if contact is None and not email and visitor is None:
        raise ValidationError(_("Say who: an email, a contact or a visitor."), code="who")
    if kind == "order_completed":
        dedupe = f"order:{order_id}"
    elif kind == "order_refunded":
        dedupe = f"refund:{order_id}:{refund_id or ''}"
    else:
        dedupe = f"shop:{event_id}" if event_id else None

    from django.db import transaction

    from wagtail_journey import record
    from wagtail_journey.identity import get_or_create_contact, prove_control

    with transaction.atomic():
        if authenticated and visitor is not None:
            if contact is None and email:
                contact, _created = get_or_create_contact(email)
            if contact is not None:
                prove_control(visitor, contact, "shop_login")
        return record(
            kind,
            email=email,
            contact=contact,
            visitor=visitor,
            occurred_at=occurred_at,
            properties=props,
            dedupe_key=dedupe,
        )


# --- HTTP endpoint -----------------------------------------------------------


def sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """The X-Journey-Signature header value for ``body`` (for shops and tests)."""
    ts = int(time.time()) if timestamp is None else int(timestamp)
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def verify(header: str, body: bytes, secret: str, *, max_age: int, now: float) -> str | None:
    """None when valid, else the reason ("missing", "malformed", "stale", "mismatch")."""
    if not header:
        return "missing"
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    ts, mac = parts.get("t", ""), parts.get("v1", "")
    if not ts.isdigit() or not re.fullmatch(r"[0-9a-f]{64}", mac):
        return "malformed"
    if abs(now - int(ts)) > max_age:
        return "stale"
    expected = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, mac):
        return "mismatch"
    return None


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@csrf_exempt
@never_cache
def shop_event(request: HttpRequest) -> HttpResponse:
    secret = journey_settings.SHOP_SECRET
    if not secret:
        return _error(404, _("Shop events are not enabled."))
    if request.method != "POST":
        return _error(405, _("Use POST."))
    if request.content_type != "application/json":
        return _error(415, _("Send JSON."))
    if not ratelimit.allow("shop-ip", client_ip(request), *journey_settings.SHOP_RATE_LIMIT_IP):
        return _error(429, _("Too many requests. Please slow down."))
    body = request.read(65_537)
    if len(body) > 65_536:
        return _error(413, _("Payload too large."))
    max_age = journey_settings.SHOP_SIGNATURE_MAX_AGE
    reason = verify(
        request.META.get(SIGNATURE_HEADER, ""), body, secret, max_age=max_age, now=time.time()
    )
    if reason is not None:
        return _error(401, _("Invalid or expired signature."))
    mac = request.META[SIGNATURE_HEADER].rsplit("v1=", 1)[1][:64]
    cache = caches[journey_settings.RATE_LIMIT_CACHE]
    if not cache.add(f"wj:shop-sig:{mac}", 1, timeout=2 * max_age + 60):
        return _error(409, _("This event was already received."))
    try:
        data = jsonbody.loads(body)
        if not isinstance(data, dict):
            raise ValueError
    except ValueError:
        return _error(400, _("Invalid JSON."))
    visitor = None
    vkey = data.get("visitor")
    if isinstance(vkey, str) and VISITOR_KEY_RE.match(vkey):
        visitor = Visitor.objects.filter(key=vkey).first()
    try:
        occurred_at = parse_occurred_at(data.get("occurred_at"))
    except ValidationError as exc:
        return _error(400, " ".join(exc.messages))
    email = data.get("email")
    props = data.get("properties")
    try:
        tp = record_shop_event(
            str(data.get("event", "")),
            email=email if isinstance(email, str) else None,
            visitor=visitor,
            order_id=_opt_str(data.get("order_id")),
            refund_id=_opt_str(data.get("refund_id")),
            event_id=_opt_str(data.get("id")),
            amount=data.get("amount"),
            currency=_opt_str(data.get("currency")),
            properties=props if isinstance(props, dict) else None,
            occurred_at=occurred_at,
            authenticated=data.get("authenticated") is True,
        )
    except ValidationError as exc:
        return _error(400, " ".join(exc.messages))
    return JsonResponse({"touchpoint": tp.pk, "duplicate": not tp.is_new}, status=200)


#: Events older than this are refused (a typo in the year, or a clock gone wrong).
OLDEST_EVENT_YEAR = 2000


def parse_occurred_at(value: Any) -> datetime | None:
    """An ISO 8601 date and time (UTC when it names no offset); None when absent.

    Raises a translated ValidationError for text that is not one, a date that
    does not exist (month 13, 31 February), or one out of range: before
    OLDEST_EVENT_YEAR or more than a day ahead.
    """
    if value is None:
        return None
    message = _("occurred_at must be an ISO 8601 date and time.")
    if not isinstance(value, str) or len(value) > 64:
        raise ValidationError(message, code="occurred_at")
    try:
        parsed = parse_datetime(value)
        if parsed is None:
            raise ValueError
        if timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed, UTC)
        parsed = parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValidationError(message, code="occurred_at") from None
    if parsed.year < OLDEST_EVENT_YEAR or parsed > timezone.now() + timedelta(days=1):
        raise ValidationError(
            _("occurred_at is out of range (from %(year)s to today).")
            % {"year": OLDEST_EVENT_YEAR},
            code="occurred_at",
        )
    return parsed


def _opt_str(value: Any) -> str | None:
    if value is None:
        return None
    return str(value)[:65]
