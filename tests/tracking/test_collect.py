"""The collect endpoint: custom events land as touchpoints; bad input is refused."""

import json

import pytest

from wagtail_journey.models import Touchpoint, Visitor

pytestmark = pytest.mark.django_db

URL = "/journey/collect/"
ORIGIN = {"HTTP_ORIGIN": "http://testserver"}


def post(client, payload, content_type="application/json", **extra):
    body = payload if isinstance(payload, bytes | str) else json.dumps(payload)
    return client.post(URL, body, content_type=content_type, **{**ORIGIN, **extra})


def test_custom_event_lands_as_a_touchpoint_with_page_stage_and_session(
    consented, article, home_page
):
    from wagtail_journey.models import PageJourneyStage

    PageJourneyStage.objects.create(page=home_page, stage="awareness")
    consented.get("/article/")
    view = Touchpoint.objects.get(kind="page_view")
    response = post(
        consented,
        {"page": article.pk, "events": [{"kind": "video_play", "props": {"video": "intro"}}]},
    )
    assert response.status_code == 204
    tp = Touchpoint.objects.get(kind="video_play")
    assert tp.properties == {"video": "intro"}
    assert tp.page_id == article.pk
    assert tp.journey_stage == "awareness"
    assert tp.session == view.session and tp.visitor_id == view.visitor_id


def test_engagement_and_cta_events_in_one_beacon(consented, article):
    response = post(
        consented,
        {
            "page": article.pk,
            "events": [
                {"kind": "engagement", "props": {"seconds": 42, "depth": 80}},
                {"kind": "cta_click", "props": {"cta": "book-demo"}},
            ],
        },
        content_type="text/plain;charset=UTF-8",  # what sendBeacon sends for a string
    )
    assert response.status_code == 204
    assert set(Touchpoint.objects.values_list("kind", flat=True)) == {"engagement", "cta_click"}


def test_events_without_consent_are_dropped_silently_in_required_mode(web, article):
    response = post(web, {"events": [{"kind": "video_play"}]})
    assert response.status_code == 204
    assert Touchpoint.objects.count() == 0 and Visitor.objects.count() == 0
    assert not response.cookies


def test_unknown_page_is_ignored_not_an_error(consented):
    assert post(consented, {"page": 999999, "events": [{"kind": "x_y"}]}).status_code == 204
    assert Touchpoint.objects.get().page_id is None


@pytest.mark.parametrize(
    "payload",
    [
        b"\x00\xffgarbage",
        b"{not json",
        b"[]",
        b'"string"',
        {"events": "nope"},
        {"events": [{"kind": "Video Play"}]},
        {"events": [{"kind": "page_view"}]},  # server-only kinds cannot be forged
        {"events": [{"kind": "identified"}]},  # nor proof of control of an address
        {"events": [{"kind": "order_completed", "props": {"amount": 1e9}}]},
        {"events": [{"kind": "ok", "props": {"nested": {"a": 1}}}]},
        {"events": [{"kind": "ok", "props": {f"k{i}": i for i in range(11)}}]},
        {"events": [{"kind": "ok", "extra": 1}]},
        {"events": [{"kind": "ok"}] * 21},
        {"page": "1", "events": [{"kind": "ok"}]},
        {"events": []},
        {"consent": "yes"},
        {"surprise": 1},
    ],
)
def test_garbage_payloads_are_refused_and_store_nothing(consented, payload):
    response = post(consented, payload)
    assert response.status_code == 400
    assert "error" in response.json()
    assert Touchpoint.objects.count() == 0


def test_oversized_payload_is_refused(consented):
    big = {"events": [{"kind": "ok", "props": {"t": "x" * 5000}}]}
    response = post(consented, big)
    assert response.status_code == 413
    assert Touchpoint.objects.count() == 0


@pytest.mark.parametrize(
    "content_type",
    ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/html"],
)
def test_wrong_content_type_is_refused(consented, content_type):
    response = post(consented, b'{"events": [{"kind": "ok"}]}', content_type=content_type)
    assert response.status_code == 415
    assert Touchpoint.objects.count() == 0


def test_foreign_origin_is_refused(consented):
    response = post(consented, {"events": [{"kind": "ok"}]}, HTTP_ORIGIN="https://evil.example")
    assert response.status_code == 403
    no_origin = consented.post(URL, '{"events": [{"kind": "ok"}]}', content_type="application/json")
    assert no_origin.status_code == 403
    assert Touchpoint.objects.count() == 0


def test_same_origin_fetch_metadata_without_origin_is_accepted(consented):
    response = consented.post(
        URL,
        '{"events": [{"kind": "ok"}]}',
        content_type="application/json",
        HTTP_SEC_FETCH_SITE="same-origin",
    )
    assert response.status_code == 204


def test_get_is_not_allowed(consented):
    assert consented.get(URL).status_code == 405


def test_flood_from_one_ip_is_rate_limited_and_pages_still_serve(web, article, settings):
    settings.WAGTAIL_JOURNEY = {"COLLECT_RATE_LIMIT_IP": (5, 60)}
    codes = [post(web, {"events": [{"kind": "ok"}]}).status_code for _ in range(8)]
    assert codes[:5] == [204] * 5
    assert codes[5:] == [429] * 3
    assert web.get("/article/").status_code == 200


def test_one_visitor_is_rate_limited_across_ips(consented, settings):
    settings.WAGTAIL_JOURNEY = {"COLLECT_RATE_LIMIT_VISITOR": (3, 60)}
    codes = [
        post(consented, {"events": [{"kind": "ok"}]}, REMOTE_ADDR=f"10.0.0.{i}").status_code
        for i in range(5)
    ]
    assert codes == [204, 204, 204, 429, 429]
    assert Touchpoint.objects.count() == 3


def test_consent_grant_sets_cookies_and_creates_the_visitor(web):
    response = post(web, {"consent": True})
    assert response.status_code == 204
    visitor = Visitor.objects.get()
    assert visitor.consented_at is not None and not visitor.audience_only
    assert response.cookies["wj_vid"].value == visitor.key
    assert response.cookies["wj_c"].value == "1"
    assert not response.cookies["wj_c"]["httponly"]


def test_exempt_consent_upgrades_the_audience_visitor(web, exempt, article):
    web.get("/article/")
    visitor = Visitor.objects.get()
    assert visitor.audience_only
    post(web, {"consent": True})
    visitor.refresh_from_db()
    assert not visitor.audience_only and visitor.consented_at
    web.get("/article/")
    latest = Touchpoint.objects.latest("id")
    assert not latest.audience_only
    # Earlier audience-only history stays audience-only (the exemption forbids combining).
    assert Touchpoint.objects.filter(audience_only=True).count() == 1


def test_collect_hot_path_query_count(consented, article, django_assert_max_num_queries):
    post(consented, {"page": article.pk, "events": [{"kind": "ok"}]})
    # visitor SELECT, SAVEPOINT, the visitor's current contact (read under a row lock so
    # a concurrent identification cannot miss this event), INSERT, RELEASE.
    # The page path is cached per process.
    with django_assert_max_num_queries(5):
        assert post(consented, {"page": article.pk, "events": [{"kind": "ok"}]}).status_code == 204
