"""UTM parameters and referrer domains, cleaned to short plain text."""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from django.http import HttpRequest
from django.utils.html import strip_tags

UTM_KEYS = ("source", "medium", "campaign", "term", "content")
#: Longest UTM value kept; longer values are cut (campaign names are short).
UTM_MAX_LENGTH = 100
# Control characters, and lone UTF-16 surrogates (valid in JSON, refused by
# PostgreSQL's jsonb and by UTF-8 encoders).
_CONTROL = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]+")
_SPACES = re.compile(r"\s+")
_HOST = re.compile(r"^[a-z0-9.-]{1,253}$")


def clean_text(value: str, max_length: int = UTM_MAX_LENGTH) -> str:
    """Plain text from untrusted input: no tags, no control characters, bounded.

    The input is cut before tag stripping so a 10 KB value costs nothing.
    """
    value = strip_tags(str(value)[: max_length * 4])
    value = _SPACES.sub(" ", _CONTROL.sub(" ", value)).strip()
    return value[:max_length]


def utm_from_query(query: Mapping[str, str]) -> dict[str, str] | None:
    """The UTM parameters of a query string (``utm_source`` -> ``source``), or None."""
    utm = {}
    for key in UTM_KEYS:
        raw = query.get(f"utm_{key}")
        if raw:
            value = clean_text(raw)
            if value:
                utm[key] = value
    return utm or None


def host_of(url: str) -> str:
    """Lower-case host of a URL without ``www.``; "" when there is none or it is invalid."""
    try:
        host = (urlsplit(url[:2048]).hostname or "").lower()
    except ValueError:
        return ""
    if host.startswith("www."):
        host = host[4:]
    return host if _HOST.match(host) else ""


def referrer_domain(request: HttpRequest) -> str:
    """The external referrer's domain ("" for direct traffic and internal links)."""
    return external_domain(request.META.get("HTTP_REFERER") or "", request)


def external_domain(url: str, request: HttpRequest) -> str:
    """The domain of ``url`` unless it is this site's own ("" then, or when invalid)."""
    if not url:
        return ""
    host = host_of(url)
    own = request.get_host().split(":")[0].lower().removeprefix("www.")
    return "" if host == own else host


def source_label(utm: Mapping[str, str] | None, ref: str) -> str:
    """One short label for where a visit came from (UTM source, else referrer)."""
    if utm and utm.get("source"):
        return utm["source"][:64]
    return ref[:64]
