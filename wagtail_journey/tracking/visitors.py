"""Who is browsing, and how much we may record: consent modes, GPC/DNT, cookies, sessions.

Tracking levels of a request:

- ``full``: a visitor who granted analytics consent; touchpoints are stitched,
  scored and segmented.
- ``audience``: ``exempt`` mode without consent; a visitor cookie and
  touchpoints marked ``audience_only`` (statistics only).
- ``anonymous``: ``required`` mode without consent; no cookie, only anonymous
  daily aggregates with a daily-salted hash for unique visitors.
- ``opted_out``: Global Privacy Control or Do Not Track; no cookie, only a
  page-view count in the daily aggregates (no hash, not even for the day).

An explicit grant through the consent banner or ``wagtailJourney.consent(true)``
overrides GPC/DNT for this site (the GPC specification lets a person do so).
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass

from django.core.signing import Signer
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers

from wagtail_journey.conf import journey_settings
from wagtail_journey.models import Visitor
from wagtail_journey.tracking import buffer

FULL, AUDIENCE, ANONYMOUS, OPTED_OUT = "full", "audience", "anonymous", "opted_out"

VISITOR_KEY_RE = re.compile(r"^[A-Za-z0-9_-]{22}$")
_SESSION_RE = re.compile(r"^[1-9][0-9]{0,18}$")


@dataclass
class VisitorState:
    level: str
    visitor: Visitor | None = None
    session: int | None = None
    new_session: bool = False
    set_visitor_cookie: bool = False
    clear_visitor_cookie: bool = False
    consent_cookie: str | None = None  # "1"/"0" to set, "" to delete, None to leave
    granted_now: bool = False  # this request turned analytics consent on
    from_hint: bool = False  # read from the signed state cookie, not the database

    @property
    def per_visitor(self) -> bool:
        return self.visitor is not None and self.level in (FULL, AUDIENCE)


def opted_out(request: HttpRequest) -> bool:
    """True when the browser sends Global Privacy Control or Do Not Track (and we honour it)."""
    meta = request.META
    return bool(
        (journey_settings.HONOUR_GPC and meta.get("HTTP_SEC_GPC", "").strip() == "1")
        or (journey_settings.HONOUR_DNT and meta.get("HTTP_DNT", "").strip() == "1")
    )


def _cookie_key(request: HttpRequest) -> tuple[str | None, bool]:
    """(valid visitor key or None, whether a cookie was present at all)."""
    raw = request.COOKIES.get(journey_settings.VISITOR_COOKIE_NAME)
    if raw is None:
        return None, False
    return (raw if VISITOR_KEY_RE.match(raw) else None), True


#: (SQL, field attnames, per column: (expression, converters)), built once per process.
_LOOKUP: list[tuple[str, list[str], list[tuple]]] = []


def _lookup_plan() -> tuple[str, list[str], list[tuple]]:
    if not _LOOKUP:
        meta, qn = Visitor._meta, connection.ops.quote_name
        fields = meta.concrete_fields
        sql = (
            f"SELECT {', '.join(qn(f.column) for f in fields)} "  # noqa: S608 (quoted names only)
            f"FROM {qn(meta.db_table)} WHERE {qn(meta.get_field('key').column)} = %s LIMIT 1"
        )
        columns = []
        for field in fields:
            col = field.get_col(meta.db_table)
            converters = [
                *connection.ops.get_db_converters(col),
                *field.get_db_converters(connection),
            ]
            columns.append((col, converters))
        _LOOKUP.append((sql, [f.attname for f in fields], columns))
    return _LOOKUP[0]


def _lookup(key: str | None) -> Visitor | None:
    """The visitor with cookie id ``key``: one indexed SELECT on every tracked request.

    A raw statement built once from the model's metadata, read with a plain
    cursor: the ORM's query compiler, and even a raw queryset's machinery,
    cost more than the query itself on the tracked page view and the collect
    endpoint. The database's converters (aware datetimes on SQLite) are
    applied as the ORM would.
    """
    if not key:
        return None
    sql, names, columns = _lookup_plan()
    with connection.cursor() as cursor:
        cursor.execute(sql, [key])
        row = cursor.fetchone()
    if row is None:
        return None
    values = []
    for value, (col, converters) in zip(row, columns, strict=True):
        for converter in converters:
            value = converter(value, col, connection)
        values.append(value)
    return Visitor.from_db(connection.alias, names, values)


def _consent_cookie_grants(request: HttpRequest) -> bool:
    # A browser that granted analytics is asked of the database: a state
    # cookie re-issued by a request racing the grant must not hold it back.
    return request.COOKIES.get(journey_settings.CONSENT_COOKIE_NAME) == "1"


def _hint_signer() -> Signer:
    return Signer(salt="wagtail_journey.visitor-state")


def _hint_value(visitor: Visitor) -> str:
    """The state cookie's value: visitor id, time, and a signature bound to the visitor cookie."""
    payload = f"{visitor.pk}.{int(time.time())}"
    return f"{payload}.{_hint_signer().signature(f'{visitor.key}|{payload}')}"


def _from_hint(request: HttpRequest, key: str | None) -> VisitorState | None:
    """The audience state the signed state cookie gives, if fresh and bound to this visitor.

    Only audience visitors (exempt mode, no analytics consent) get the cookie:
    they are never linked to a contact, so the database could tell nothing
    more, and what can change about them elsewhere is handled where it
    happens: a visitor erased or purged meanwhile has its buffered items
    dropped by the flush, and only this browser can grant consent (the
    consent endpoint replaces the cookie). Consented visitors are read from
    the database on every request: their contact link can change elsewhere.
    """
    seconds = int(journey_settings.VISITOR_STATE_SECONDS)
    raw = request.COOKIES.get(journey_settings.VISITOR_STATE_COOKIE_NAME)
    if (
        not raw
        or not key
        or seconds <= 0
        or not buffer.enabled()
        or journey_settings.TRACKING_CONSENT_MODE != "exempt"
    ):
        return None
    payload, _, signature = raw.rpartition(".")
    pk, _, issued = payload.partition(".")
    if not (pk.isdigit() and issued.isdigit() and len(pk) < 19 and len(issued) < 12):
        return None
    if not 0 <= time.time() - int(issued) < seconds:
        return None
    if not secrets.compare_digest(signature, _hint_signer().signature(f"{key}|{payload}")):
        return None
    if opted_out(request) or _consent_cookie_grants(request):
        return None  # decided from the database, as without the cookie
    visitor = Visitor(pk=int(pk), key=key, audience_only=True)
    return VisitorState(AUDIENCE, visitor, from_hint=True)


def _session(request: HttpRequest) -> tuple[int, bool]:
    raw = request.COOKIES.get(journey_settings.SESSION_COOKIE_NAME, "")
    if _SESSION_RE.match(raw) and int(raw) < 2**62:
        return int(raw), False
    return secrets.randbits(62) or 1, True


def resolve(request: HttpRequest, *, create: bool = True, hinted: bool = False) -> VisitorState:
    """Decide what may be recorded for ``request`` (cached on the request).

    Costs one indexed SELECT when a visitor cookie is present, one INSERT the
    first time an exempt-mode visitor is seen (``create``), and one UPDATE
    when a session starts (none with ``TRACKING_BUFFER``). ``hinted`` (page
    views and beacons, which only record buffered touchpoints) first reads the
    signed state cookie, and then costs no query at all; other callers (forms,
    shops) get the visitor from the database, whole.
    """
    cached = getattr(request, "_wj_state", None)
    if cached is not None and (hinted or not cached.from_hint):
        return cached
    state = None
    if hinted:
        key, _ = _cookie_key(request)
        state = _from_hint(request, key)
    if state is None:
        state = _resolve(request, create=create)
    if state.per_visitor:
        state.session, state.new_session = _session(request)
        if state.new_session and not state.set_visitor_cookie and not buffer.enabled():
            # Buffered, the flush touches the visitor (the item says new_session).
            Visitor.objects.filter(pk=state.visitor.pk).update(last_seen_at=timezone.now())
    request._wj_state = state
    return state


def unhinted(request: HttpRequest, state: VisitorState) -> VisitorState:
    """``state`` read from the database if it came from the state cookie.

    For touchpoints stored on the request path (Redis away): only the
    buffer's flush re-checks a hinted visitor.
    """
    if not state.from_hint:
        return state
    fresh = _resolve(request, create=False)
    if fresh.per_visitor:
        fresh.session, fresh.new_session = state.session, state.new_session
    request._wj_state = fresh
    return fresh


def _resolve(request: HttpRequest, *, create: bool) -> VisitorState:
    key, had_cookie = _cookie_key(request)
    visitor = _lookup(key)
    if visitor is not None and visitor.consented_at is not None and not visitor.audience_only:
        return VisitorState(FULL, visitor)
    stale = had_cookie  # a cookie that names no usable visitor is removed
    if opted_out(request):
        return VisitorState(OPTED_OUT, clear_visitor_cookie=had_cookie)
    if journey_settings.TRACKING_CONSENT_MODE != "exempt":
        return VisitorState(ANONYMOUS, clear_visitor_cookie=stale)
    if visitor is not None:
        return VisitorState(AUDIENCE, visitor)
    if not create:
        return VisitorState(AUDIENCE, clear_visitor_cookie=stale)
    # Never adopt a key the browser made up: a foreign or malformed cookie
    # gets a fresh random id.
    visitor = Visitor.objects.create(audience_only=True)
    return VisitorState(AUDIENCE, visitor, set_visitor_cookie=True)


def grant_consent(request: HttpRequest) -> VisitorState:
    """The visitor granted analytics consent: create or upgrade their visitor."""
    now = timezone.now()
    key, _ = _cookie_key(request)
    visitor = _lookup(key)
    created = visitor is None
    granted_now = created or visitor.consented_at is None or visitor.audience_only
    if created:
        visitor = Visitor.objects.create(consented_at=now, audience_only=False)
    elif granted_now:
        Visitor.objects.filter(pk=visitor.pk).update(consented_at=now, audience_only=False)
        visitor.consented_at, visitor.audience_only = now, False
    state = VisitorState(
        FULL, visitor, set_visitor_cookie=created, consent_cookie="1", granted_now=granted_now
    )
    state.session, state.new_session = _session(request)
    request._wj_state = state
    return state


def withdraw_consent(request: HttpRequest) -> VisitorState:
    """The visitor refused or withdrew consent: stop per-visitor tracking.

    In ``required`` mode the visitor cookie is deleted; in ``exempt`` mode the
    visitor goes back to audience statistics. Touchpoints already recorded
    stay (erasure is the privacy module's job).
    """
    key, had_cookie = _cookie_key(request)
    visitor = _lookup(key)
    if visitor is not None:
        Visitor.objects.filter(pk=visitor.pk).update(consented_at=None, audience_only=True)
        visitor.consented_at, visitor.audience_only = None, True
    exempt = journey_settings.TRACKING_CONSENT_MODE == "exempt"
    if exempt and visitor is not None and not opted_out(request):
        state = VisitorState(AUDIENCE, visitor, consent_cookie="0")
    else:
        state = VisitorState(
            OPTED_OUT if opted_out(request) else ANONYMOUS,
            clear_visitor_cookie=had_cookie,
            consent_cookie="0",
        )
    request._wj_state = state
    return state


def visitor_from_request(request: HttpRequest) -> Visitor | None:
    """The request's visitor if one may be recorded, for forms and Django shops.

    Pass it to ``record(..., visitor=...)``: a consented visitor is stitched to
    the contact; an audience-only one is left out by record() itself.
    """
    return resolve(request, create=False).visitor


def apply_cookies(state: VisitorState, request: HttpRequest, response: HttpResponse) -> None:
    """Set or delete the visitor, session and consent cookies on ``response``.

    A response that sets (or deletes) one of them is made ``private`` with
    ``Vary: Cookie``: a shared cache storing it would hand one visitor's id
    (and session) to everyone served from that cache entry.
    """
    _set_cookies(state, request, response)
    ours = (
        journey_settings.VISITOR_COOKIE_NAME,
        journey_settings.SESSION_COOKIE_NAME,
        journey_settings.CONSENT_COOKIE_NAME,
        journey_settings.VISITOR_STATE_COOKIE_NAME,
    )
    if any(name in response.cookies for name in ours):
        patch_cache_control(response, private=True)
        patch_vary_headers(response, ["Cookie"])


def _set_state_cookie(state: VisitorState, request, response, common: dict) -> None:
    """Issue the audience state cookie after a database lookup; drop it on any other level."""
    name = journey_settings.VISITOR_STATE_COOKIE_NAME
    seconds = int(journey_settings.VISITOR_STATE_SECONDS)
    audience = state.level == AUDIENCE and state.visitor is not None
    if (
        audience
        and not state.from_hint
        and seconds > 0
        and buffer.enabled()
        and not (state.consent_cookie == "1" or _consent_cookie_grants(request))
    ):
        response.set_cookie(
            name, _hint_value(state.visitor), max_age=seconds, httponly=True, **common
        )
    elif not audience and name in request.COOKIES:
        response.delete_cookie(name, path="/", samesite="Lax")


def _set_cookies(state: VisitorState, request: HttpRequest, response: HttpResponse) -> None:
    secure = request.is_secure()
    common = {"secure": secure, "samesite": "Lax", "path": "/"}
    if state.set_visitor_cookie and state.visitor is not None:
        # Set once, never extended: the CNIL exemption counts 13 months from
        # the first visit.
        response.set_cookie(
            journey_settings.VISITOR_COOKIE_NAME,
            state.visitor.key,
            max_age=journey_settings.VISITOR_COOKIE_AGE_DAYS * 86400,
            httponly=True,
            **common,
        )
    if state.clear_visitor_cookie:
        response.delete_cookie(journey_settings.VISITOR_COOKIE_NAME, path="/", samesite="Lax")
    if state.per_visitor and state.session:
        response.set_cookie(
            journey_settings.SESSION_COOKIE_NAME,
            str(state.session),
            max_age=journey_settings.SESSION_TIMEOUT_MINUTES * 60,
            httponly=True,
            **common,
        )
    elif state.clear_visitor_cookie and journey_settings.SESSION_COOKIE_NAME in request.COOKIES:
        response.delete_cookie(journey_settings.SESSION_COOKIE_NAME, path="/", samesite="Lax")
    _set_state_cookie(state, request, response, common)
    if state.consent_cookie:
        response.set_cookie(
            journey_settings.CONSENT_COOKIE_NAME,
            state.consent_cookie,
            max_age=journey_settings.CONSENT_COOKIE_AGE_DAYS * 86400,
            httponly=False,  # journey.js reads it to know whether to ask
            **common,
        )
