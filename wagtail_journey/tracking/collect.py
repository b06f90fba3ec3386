"""The collect endpoint journey.js beacons to: custom events, engagement, CTA clicks, consent.

Body (JSON, at most COLLECT_MAX_BYTES)::

    {"page": 12, "events": [{"kind": "video_play", "props": {"id": "intro"}}]}
    {"consent": true}          # or false: grant or withdraw analytics consent
    {"consent": true, "page": 12, "query": "utm_source=x", "ref": "https://..."}

A grant sent with the page it was given on (journey.js sends the page's
query string and referrer) records that page view for the visitor, with its
UTM and referrer, so the campaign that brought them is their first touch
(docs/tracking.md, "The page where consent is given").

Checks, cheapest first: method, content type, size, origin, per-IP rate limit,
JSON schema, per-visitor rate limit. Answers 204 when accepted (also when the
visitor may not be tracked and the events are dropped: the browser learns
nothing), 400/403/405/413/415/429 with a short translated message otherwise.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from wagtail_journey.conf import journey_settings
from wagtail_journey.events import KIND_RE, is_server_kind
from wagtail_journey.ratelimit import client_ip
from wagtail_journey.tracking import buffer, jsonbody, ratelimit, visitors
from wagtail_journey.tracking.stages import stage_for_path
from wagtail_journey.tracking.useragent import classify
from wagtail_journey.tracking.utm import clean_text, external_domain, utm_from_query

logger = logging.getLogger(__name__)

CONTENT_TYPES = ("application/json", "text/plain")
MAX_PROPS = 10
MAX_VALUE_LENGTH = 200
_PROP_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,31}$")


class Invalid(Exception):
    pass


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def origin_allowed(request: HttpRequest) -> bool:
    """Same-origin beacons only (plus COLLECT_ALLOWED_ORIGINS)."""
    origin = request.META.get("HTTP_ORIGIN")
    if origin:
        allowed = {o.rstrip("/") for o in journey_settings.COLLECT_ALLOWED_ORIGINS}
        if origin.rstrip("/") in allowed:
            return True
        own = f"{request.scheme}://{request.get_host()}"
        return origin == own
    # Some browsers omit Origin on same-origin beacons; Fetch Metadata tells.
    return request.META.get("HTTP_SEC_FETCH_SITE") == "same-origin"


def _clean_props(raw: Any) -> dict | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or len(raw) > MAX_PROPS:
        raise Invalid(_("Event properties must be an object with at most 10 keys."))
    props = {}
    for key, value in raw.items():
        if not isinstance(key, str) or not _PROP_KEY.match(key):
            raise Invalid(_("Invalid event property name."))
        if isinstance(value, bool) or value is None:
            props[key] = value
        elif isinstance(value, int | float):
            if isinstance(value, float) and not math.isfinite(value):
                raise Invalid(_("Event property values must be finite numbers."))
            props[key] = value
        elif isinstance(value, str):
            props[key] = clean_text(value, MAX_VALUE_LENGTH)
        else:
            raise Invalid(_("Event property values must be text, numbers or booleans."))
    return props or None


#: The longest query string and referrer a consent beacon may carry.
MAX_LANDING_LENGTH = 1000


def parse_landing(data: dict) -> tuple[str, str]:
    """The ``query`` and ``ref`` of a consent beacon (the page it was given on)."""
    query, ref = data.get("query", ""), data.get("ref", "")
    for value in (query, ref):
        if not isinstance(value, str) or len(value) > MAX_LANDING_LENGTH:
            raise Invalid(_("Invalid page address."))
    if (query or ref) and data.get("consent") is not True:
        raise Invalid(_("Unexpected payload."))
    return query, ref


def parse_payload(data: Any) -> tuple[int | None, list[tuple[str, dict | None]], bool | None]:
    """Validate the JSON body: (page id, [(kind, props)], consent choice)."""
    if not isinstance(data, dict) or set(data) - {"page", "events", "consent", "query", "ref"}:
        raise Invalid(_("Unexpected payload."))
    parse_landing(data)
    page = data.get("page")
    if page is not None and (
        isinstance(page, bool) or not isinstance(page, int) or not 0 < page < 2**31
    ):
        raise Invalid(_("Invalid page."))
    consent = data.get("consent")
    if consent is not None and not isinstance(consent, bool):
        raise Invalid(_("Consent must be true or false."))
    raw_events = data.get("events", [])
    if not isinstance(raw_events, list) or len(raw_events) > journey_settings.COLLECT_MAX_EVENTS:
        raise Invalid(_("Too many events."))
    events = []
    for item in raw_events:
        if not isinstance(item, dict) or set(item) - {"kind", "props"}:
            raise Invalid(_("Invalid event."))
        kind = item.get("kind")
        if not isinstance(kind, str) or not KIND_RE.match(kind):
            raise Invalid(_("Invalid event name."))
        if is_server_kind(kind):
            raise Invalid(_("This event name is reserved."))
        events.append((kind, _clean_props(item.get("props"))))
    if not events and consent is None:
        raise Invalid(_("No events."))
    return page, events, consent


# page id -> tree path, per process, refreshed with the stage table.
_paths: dict[int, str | None] = {}
_paths_lock = threading.Lock()
_paths_loaded = [0.0]


def page_path(page_id: int) -> str | None:
    """Tree path of a live page (None when it does not exist)."""
    if time.monotonic() - _paths_loaded[0] > 60 or len(_paths) > 10_000:
        with _paths_lock:
            _paths.clear()
            _paths_loaded[0] = time.monotonic()
    if page_id not in _paths:
        from wagtail.models import Page

        _paths[page_id] = (
            Page.objects.filter(pk=page_id, live=True).values_list("path", flat=True).first()
        )
    return _paths[page_id]


@csrf_exempt
@never_cache
def collect(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _error(405, _("Use POST."))
    if not journey_settings.TRACKING_ENABLED:
        return HttpResponse(status=204)
    if request.content_type not in CONTENT_TYPES:
        return _error(415, _("Send JSON."))
    limit = journey_settings.COLLECT_MAX_BYTES
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        return _error(413, _("Payload too large."))
    if not origin_allowed(request):
        return _error(403, _("Origin not allowed."))
    ip = client_ip(request)
    if not ratelimit.allow("collect-ip", ip, *journey_settings.COLLECT_RATE_LIMIT_IP):
        return _error(429, _("Too many requests. Please slow down."))
    body = request.read(limit + 1)
    if len(body) > limit:
        return _error(413, _("Payload too large."))
    try:
        # parse_payload refuses nesting and cleans every string: no second walk.
        data = jsonbody.loads(body, max_depth=None)
        page_id, events, consent = parse_payload(data)
    except ValueError:
        return _error(400, _("Invalid JSON."))
    except Invalid as exc:
        return _error(400, str(exc))
    bot, device = classify(request.META.get("HTTP_USER_AGENT"))
    if bot:
        return HttpResponse(status=204)

    if consent is True:
        state = visitors.grant_consent(request)
    elif consent is False:
        state = visitors.withdraw_consent(request)
    else:
        state = visitors.resolve(request, create=False, hinted=True)
    response = HttpResponse(status=204)
    if state.granted_now and page_id is not None:
        _record_consent_page_view(request, state, page_id, *parse_landing(data), device)
    # Per-visitor events are recorded (or buffered) within the visitor's limit.
    if events and state.per_visitor and not _record_events(request, state, page_id, events, device):
        return _error(429, _("Too many requests. Please slow down."))
    visitors.apply_cookies(state, request, response)
    return response


def _record_consent_page_view(request, state, page_id, query, ref, device) -> None:
    """The page on which analytics consent was just given, as the visitor's page view.

    Its view was served before the choice (counted anonymously, or as
    audience-only in ``exempt`` mode), so its UTM and referrer would be lost
    and the next page would be the first touch. Recorded once, when the grant
    is new; ``on_consent`` marks it so the Audience report does not count the
    same view twice.
    """
    from wagtail.models import Page

    from wagtail_journey import record

    path = page_path(page_id)
    if path is None:
        return
    properties: dict[str, Any] = {"on_consent": True}
    domain = external_domain(ref, request)
    if domain:
        properties["ref"] = domain
    record(
        "page_view",
        visitor=state.visitor,
        page=Page(pk=page_id, path=path),
        session=state.session,
        device=device,
        journey_stage=stage_for_path(path) or "",
        utm=utm_from_query(QueryDict(query.lstrip("?"))) if query else None,
        properties=properties,
    )


def _visitor_limit() -> tuple[int, int]:
    return tuple(journey_settings.COLLECT_RATE_LIMIT_VISITOR)


def _record_events(request, state, page_id, events, device) -> bool:
    """Record (or buffer) the events of a per-visitor beacon; False past the visitor's limit."""
    from wagtail.models import Page

    from wagtail_journey import record

    path = page_path(page_id) if page_id is not None else None
    stage = stage_for_path(path) if path is not None else ""
    limit = ("collect-visitor", state.visitor.key, *_visitor_limit())
    if buffer.enabled():
        # No Page instance here: building one costs more than the whole push.
        audience_only = state.level != visitors.FULL
        items = [
            buffer.item(
                kind,
                visitor=state.visitor,
                audience_only=audience_only,
                page_id=page_id if path is not None else None,
                session=state.session,
                device=device,
                journey_stage=stage or "",
                properties=props,
                new_session=state.new_session and n == 0,
            )
            for n, (kind, props) in enumerate(events)
        ]
        try:
            return buffer.push_limited(items, *limit)
        except buffer.REDIS_ERRORS:
            # Redis is away: store these events the unbuffered way rather than lose them.
            logger.warning("wagtail_journey: tracking buffer unavailable, events stored directly")
            state = visitors.unhinted(request, state)
            if not state.per_visitor:
                return True
    if not ratelimit.allow(*limit):
        return False
    page = Page(pk=page_id, path=path) if path is not None else None
    for kind, props in events:
        record(
            kind,
            visitor=state.visitor,
            page=page,
            session=state.session,
            device=device,
            journey_stage=stage or "",
            properties=props,
        )
    return True
