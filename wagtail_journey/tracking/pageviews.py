"""Page views of Wagtail pages, recorded by an ``on_serve_page`` hook.

The hook wraps Wagtail's serve chain inside the view-restriction check (so a
password or login prompt is never counted), sees the real response, and
records only successful GETs of real visitors. What is never recorded: admin
and previews (not served through this chain), static and media files, HEAD
and other methods, non-2xx responses, prefetch/prerender requests and bots.

Cost on the request path: one indexed SELECT for the visitor cookie and one
INSERT for the touchpoint, or, with ``TRACKING_BUFFER``, one Redis RPUSH
instead of the INSERT (``required`` mode before consent: one cache add and
one UPSERT into the daily aggregate). A brand-new exempt-mode visitor costs
one more INSERT (its Visitor row) on its first page only.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest

from wagtail_journey.conf import journey_settings
from wagtail_journey.ratelimit import client_ip
from wagtail_journey.tracking import aggregates, buffer, visitors
from wagtail_journey.tracking.stages import stage_for_page
from wagtail_journey.tracking.useragent import classify
from wagtail_journey.tracking.utm import referrer_domain, source_label, utm_from_query

logger = logging.getLogger(__name__)

_PREFETCH_HEADERS = ("HTTP_SEC_PURPOSE", "HTTP_PURPOSE", "HTTP_X_PURPOSE", "HTTP_X_MOZ")


def is_prefetch(request: HttpRequest) -> bool:
    """Speculative loads (prefetch, prerender, link previews) are not views."""
    meta = request.META
    return any(
        word in meta.get(h, "").lower()
        for h in _PREFETCH_HEADERS
        for word in ("prefetch", "prerender", "preview")
    )


def trackable(request: HttpRequest) -> bool:
    return (
        journey_settings.TRACKING_ENABLED
        and request.method == "GET"
        and not getattr(request, "is_preview", False)
        and not is_prefetch(request)
    )


def wrap_serve(callback):
    """The ``on_serve_page`` hook: serve the page, then record the view."""

    def serve(page, request, serve_args, serve_kwargs):
        if not trackable(request):
            return callback(page, request, serve_args, serve_kwargs)
        bot, device = classify(request.META.get("HTTP_USER_AGENT"))
        if bot:
            request._wj_state = visitors.VisitorState(visitors.OPTED_OUT)
            return callback(page, request, serve_args, serve_kwargs)
        state = None
        try:
            state = visitors.resolve(request, hinted=True)
        except Exception:  # tracking must never break a page
            logger.exception("wagtail_journey: could not resolve the visitor")
        response = callback(page, request, serve_args, serve_kwargs)
        if state is not None and 200 <= response.status_code < 300:
            try:
                sub_route = bool(serve_args or serve_kwargs)
                record_page_view(page, request, state, device, sub_route=sub_route)
                visitors.apply_cookies(state, request, response)
            except Exception:
                logger.exception("wagtail_journey: could not record a page view")
        return response

    return serve


def record_page_view(
    page, request: HttpRequest, state: visitors.VisitorState, device: int, *, sub_route=False
):
    """Record one page view (or count it anonymously); the page is known to be 2xx."""
    from wagtail_journey import record

    utm = utm_from_query(request.GET) if request.GET else None
    ref = referrer_domain(request)
    if not state.per_visitor:
        aggregates.count_view(
            page_id=page.pk,
            source=source_label(utm, ref),
            ip=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:512],
            host=request.get_host(),
            unique=state.level == visitors.ANONYMOUS,
        )
        return None
    properties = {}
    if ref:
        properties["ref"] = ref
    if sub_route:  # a routable page's sub-path; plain pages are known by their id
        properties["path"] = request.path[:200]
    if buffer.enabled():
        item = buffer.item(
            "page_view",
            visitor=state.visitor,
            audience_only=state.level != visitors.FULL,
            page_id=page.pk,
            session=state.session,
            device=device,
            journey_stage=stage_for_page(page),
            utm=utm,
            properties=properties,
            new_session=state.new_session,
        )
        try:
            buffer.push(item)
            return None
        except buffer.REDIS_ERRORS:
            # Redis is away: store this view the unbuffered way rather than lose it.
            logger.warning(
                "wagtail_journey: tracking buffer unavailable, page view stored directly"
            )
            state = visitors.unhinted(request, state)
            if not state.per_visitor:
                return None
    return record(
        "page_view",
        visitor=state.visitor,
        page=page,
        session=state.session,
        device=device,
        journey_stage=stage_for_page(page),
        utm=utm,
        properties=properties or None,
    )
