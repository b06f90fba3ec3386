"""Generated junk against every public endpoint: never a 5xx, never a traceback, nothing stored.

The endpoints are read from ``wagtail_journey.urls`` (an endpoint added later gets
the generic junk below without editing this file); collect, shop, forms and the
confirmation link also get junk shaped to pass their first checks (valid
signatures, valid form tokens), so the deeper code runs on it.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import quote

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.forms_helpers import form_id, make_landing_page, make_purposes
from wagtail_journey import urls as public_urls
from wagtail_journey.forms import make_token as form_token
from wagtail_journey.models import ConsentRecord, Contact, FormSubmission, Touchpoint
from wagtail_journey.tracking.shop import SHOP_KINDS, sign

pytestmark = pytest.mark.django_db

SECRET = "s" * 40
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Text a browser can send (no lone surrogates: they cannot be encoded in a request).
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300)
# A header arrives as bytes that WSGI decodes as latin-1.
header_text = st.text(st.characters(max_codepoint=255), max_size=200)
long_text = st.one_of(text, st.integers(1, 20_000).map(lambda n: "x" * n))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**31 - 2, max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    text,
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(text, inner, max_size=5)),
    max_leaves=25,
)
deep_json = st.integers(1, 5000).map(lambda n: "[" * n + "]" * n)
bad_dates = st.sampled_from(
    [
        "2024-02-31T10:00:00Z",
        "2024-13-01T00:00:00",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "2024-01-01T25:61:61",
        "1970-01-01T00:00:00",
        "3000-01-01T00:00:00Z",
        "",
    ]
)


def _json_text(value) -> str:
    return json.dumps(value, allow_nan=True)


collect_payloads = st.one_of(
    json_values.map(_json_text),
    deep_json,
    st.fixed_dictionaries(
        {
            "events": st.lists(
                st.fixed_dictionaries(
                    {"kind": st.one_of(text, st.sampled_from(["ok", "tag_added", "x" * 64]))},
                    optional={"props": json_values},
                ),
                max_size=4,
            )
        },
        optional={"page": scalars, "consent": scalars},
    ).map(_json_text),
    st.binary(max_size=500).map(lambda b: b.decode("latin-1")),
)
shop_payloads = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"event": st.one_of(st.sampled_from(SHOP_KINDS), text)},
        optional={
            "email": st.one_of(text, st.just("a@" + ("İ" * 20 + ".") * 8 + "com")),
            "order_id": scalars,
            "refund_id": scalars,
            "id": scalars,
            "amount": scalars,
            "currency": scalars,
            "visitor": scalars,
            "occurred_at": st.one_of(bad_dates, scalars, st.datetimes().map(str)),
            "properties": json_values,
        },
    ),
)


@pytest.fixture
def site(home_page, settings):
    settings.ALLOWED_HOSTS = ["*"]
    settings.WAGTAIL_JOURNEY = {
        **settings.WAGTAIL_JOURNEY,
        "SHOP_SECRET": SECRET,
        "COLLECT_RATE_LIMIT_IP": (10**9, 60),
        "COLLECT_RATE_LIMIT_VISITOR": (10**9, 60),
        "SHOP_RATE_LIMIT_IP": (10**9, 60),
        "FORM_RATE_LIMIT": (10**9, 60),
    }
    page = make_landing_page(home_page, make_purposes())
    return page


def stored() -> tuple[int, int, int, int]:
    return (
        Contact.objects.count(),
        Touchpoint.objects.count(),
        FormSubmission.objects.count(),
        ConsentRecord.objects.count(),
    )


class Watch:
    """Asserts a response is not a 5xx, logged no error, and stored nothing when refused."""

    def __init__(self, caplog):
        self.caplog = caplog

    def __call__(self, send, label):
        before = stored()
        self.caplog.clear()
        with self.caplog.at_level(logging.WARNING):
            response = send()
        assert response.status_code < 500, (label, response.status_code)
        errors = [r for r in self.caplog.records if r.levelno >= logging.ERROR or r.exc_info]
        assert not errors, (label, [r.getMessage() for r in errors])
        if response.status_code >= 400:
            assert stored() == before, (label, response.status_code)
        return response


@pytest.fixture
def watch(caplog):
    return Watch(caplog)


@FUZZ
@given(body=collect_payloads, content_type=st.sampled_from(["application/json", "text/plain"]))
@example(body="[" * 1500 + "]" * 1500, content_type="application/json")
@example(body='{"events": [{"kind": "ok", "props": {"a": "\\ud800"}}]}', content_type="text/plain")
def test_collect_never_fails_on_junk(client, site, watch, body, content_type):
    client.cookies["wj_c"] = "1"  # a consented browser: events reach record()
    watch(
        lambda: client.post(
            reverse("wagtail_journey:collect"),
            body.encode("utf-8", "surrogatepass"),
            content_type=content_type,
            HTTP_ORIGIN="http://testserver",
            HTTP_USER_AGENT=BROWSER,
        ),
        body[:200],
    )


@FUZZ
@given(payload=st.one_of(shop_payloads.map(_json_text), deep_json), stale=st.booleans())
@example(payload="[" * 1500 + "]" * 1500, stale=False)
@example(
    payload=_json_text(
        {"event": "cart_updated", "email": "a@example.com", "occurred_at": "2024-02-31T10:00"}
    ),
    stale=False,
)
def test_signed_shop_events_never_fail_on_junk(client, site, watch, payload, stale):
    body = payload.encode()
    timestamp = 1 if stale else None
    watch(
        lambda: client.post(
            reverse("wagtail_journey:shop_event"),
            body,
            content_type="application/json",
            HTTP_X_JOURNEY_SIGNATURE=sign(body, SECRET, timestamp),
        ),
        payload[:200],
    )


@FUZZ
@given(
    fields=st.fixed_dictionaries(
        {},
        optional={
            "email": st.one_of(long_text, st.just("a@" + ("İ" * 20 + ".") * 8 + "com")),
            "first_name": long_text,
            "message": long_text,
            "consent_privacy": st.sampled_from(["on", "", "x" * 300]),
            "consent_marketing": st.sampled_from(["on", ""]),
            "wj_hp": st.sampled_from(["", "bot"]),
            "extra": long_text,
        },
    ),
    token=st.one_of(st.none(), text),
    block=st.one_of(st.none(), text),
)
@example(
    fields={"email": "a@" + ("İ" * 20 + ".") * 8 + "com", "consent_privacy": "on"},
    token=None,
    block=None,
)
@example(
    fields={"email": "a@example.com", "first_name": "x" * 200, "consent_privacy": "on"},
    token=None,
    block=None,
)
def test_form_posts_never_fail_on_junk(client, site, watch, fields, token, block):
    data = {
        "wj_form": form_id(site) if block is None else block,
        "wj_ts": form_token({"privacy": 1, "marketing": 1}) if token is None else token,
        **fields,
    }
    watch(lambda: client.post(site.url, data), repr(fields)[:200])


@FUZZ
@given(
    token=st.one_of(text.filter(bool), st.just("x" * 5000)), method=st.sampled_from(["get", "post"])
)
def test_confirmation_links_never_fail_on_junk(client, site, watch, token, method):
    url = reverse("wagtail_journey:confirm", args=["placeholder"]).replace(
        "placeholder", quote(token, safe="")
    )
    watch(lambda: getattr(client, method)(url), token[:100])


def _public_routes():
    """(name, URL) of every public endpoint, path arguments filled with a placeholder."""
    routes = []
    for pattern in public_urls.urlpatterns:
        args = list(pattern.pattern.converters)
        url = reverse(f"wagtail_journey:{pattern.name}", kwargs=dict.fromkeys(args, "junk"))
        routes.append((pattern.name, url))
    return routes


def test_every_public_endpoint_is_fuzzed():
    names = {name for name, _url in _public_routes()}
    assert {"collect", "shop_event", "confirm", "health"} <= names


@FUZZ
@given(
    route=st.sampled_from(_public_routes()),
    method=st.sampled_from(["get", "post", "put", "delete", "options", "head"]),
    query=st.dictionaries(text.filter(bool), text, max_size=3),
    body=st.one_of(st.binary(max_size=300), json_values.map(_json_text).map(str.encode)),
    content_type=st.sampled_from(
        ["application/json", "text/plain", "application/x-www-form-urlencoded", "x/y"]
    ),
    headers=st.fixed_dictionaries(
        {},
        optional={
            "HTTP_ORIGIN": st.one_of(header_text, st.just("http://testserver")),
            "HTTP_X_JOURNEY_SIGNATURE": header_text,
            "HTTP_USER_AGENT": header_text,
            "HTTP_COOKIE": header_text,
            "HTTP_SEC_GPC": header_text,
        },
    ),
)
def test_every_public_endpoint_never_fails_on_junk(
    client, site, watch, route, method, query, body, content_type, headers
):
    name, url = route
    if query:
        url += "?" + "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in query.items())
    kwargs = {"content_type": content_type, **headers} if method != "get" else headers
    if method in ("post", "put", "delete"):
        kwargs["data"] = body
    watch(lambda: getattr(client, method)(url, **kwargs), f"{method} {name}")


@FUZZ
@given(
    query=st.dictionaries(
        st.one_of(st.sampled_from(["utm_source", "utm_campaign", "utm_medium", "gclid"]), text),
        long_text,
        max_size=4,
    ),
    cookies=st.fixed_dictionaries(
        {}, optional=dict.fromkeys(("wj_vid", "wj_sid", "wj_c"), header_text)
    ),
    referer=header_text,
    exempt=st.booleans(),
)
def test_tracked_page_views_never_fail_on_junk(
    client, site, watch, settings, query, cookies, referer, exempt
):
    settings.WAGTAIL_JOURNEY = {
        **settings.WAGTAIL_JOURNEY,
        "TRACKING_CONSENT_MODE": "exempt" if exempt else "required",
    }
    for name, value in cookies.items():
        client.cookies[name] = value
    url = (
        site.url
        + "?"
        + "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in query.items())
    )
    watch(lambda: client.get(url, HTTP_REFERER=referer, HTTP_USER_AGENT=BROWSER), url[:200])
