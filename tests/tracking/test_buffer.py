"""Buffered tracking (TRACKING_BUFFER): one Redis call on the request path, stored in bulk.

These tests need Redis, which `make test-postgres` provides (its cache is on
Redis): they carry the postgres marker and run there, never skipped.
"""

from __future__ import annotations

import time
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.threads import run_in_threads
from tests.tracking.conftest import BROWSER_UA, grant_consent
from wagtail_journey import record
from wagtail_journey.identity import get_or_create_contact
from wagtail_journey.models import (
    PageJourneyStage,
    ScoringRule,
    Touchpoint,
    TrackingBatch,
    Visitor,
)
from wagtail_journey.tracking import buffer

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture
def buffered(settings, monkeypatch):
    """TRACKING_BUFFER on the test cache (Redis); flush tasks counted, not run."""
    settings.WAGTAIL_JOURNEY = {**settings.WAGTAIL_JOURNEY, "TRACKING_BUFFER": "default"}
    queued = []
    monkeypatch.setattr(buffer, "_queue_flush", lambda gather=False: queued.append(gather))
    client = buffer._client()
    for key in client.scan_iter(buffer._key("*")):
        client.delete(key)
    yield queued
    for key in client.scan_iter(buffer._key("*")):
        client.delete(key)


def _inserts(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("INSERT")]


def test_a_buffered_page_view_costs_no_insert_and_is_stored_by_the_flush(
    buffered, consented, article, home_page
):
    PageJourneyStage.objects.create(page=home_page, stage="consideration")
    with CaptureQueriesContext(connection) as queries:
        response = consented.get(
            "/article/?utm_source=newsletter&utm_campaign=spring",
            HTTP_REFERER="https://www.google.com/",
        )
    assert response.status_code == 200
    assert _inserts(queries.captured_queries) == []
    assert not Touchpoint.objects.filter(kind="page_view").exists()
    assert buffer.pending() == 1
    assert buffered == [True]  # the first item of an empty queue queues a gathering flush

    consented.get("/article/")
    assert buffered == [True]  # not one task per item
    assert buffer.flush() == 2
    views = list(Touchpoint.objects.filter(kind="page_view").order_by("occurred_at"))
    assert [v.page_id for v in views] == [article.pk, article.pk]
    first, second = views
    assert first.journey_stage == "consideration"
    assert first.utm == {"source": "newsletter", "campaign": "spring"}
    assert first.properties == {"ref": "google.com"}
    assert first.session and first.session == second.session
    assert first.visitor.consented_at is not None and not first.audience_only
    assert buffer.pending() == 0 and buffer.in_flight() == 0
    assert TrackingBatch.objects.count() == 1


def test_buffered_collect_events_are_stored_with_their_properties(buffered, consented, article):
    response = consented.post(
        "/journey/collect/",
        f'{{"page": {article.pk}, "events": [{{"kind": "video_play", "props": {{"id": "intro"}}}},'
        '{"kind": "engaged"}]}',
        content_type="application/json",
        HTTP_ORIGIN="http://testserver",
    )
    assert response.status_code == 204
    assert not Touchpoint.objects.filter(kind="video_play").exists()
    buffer.flush()
    play = Touchpoint.objects.get(kind="video_play")
    assert play.properties == {"id": "intro"} and play.page_id == article.pk
    assert Touchpoint.objects.filter(kind="engaged", visitor=play.visitor).exists()


def test_exempt_audience_views_stay_audience_only_when_buffered(exempt, buffered, web, article):
    exempt.WAGTAIL_JOURNEY = {**exempt.WAGTAIL_JOURNEY, "TRACKING_BUFFER": "default"}
    web.get("/article/")
    web.get("/article/")
    assert buffer.pending() == 2 and not Touchpoint.objects.exists()
    buffer.flush()
    views = Touchpoint.objects.filter(kind="page_view")
    assert views.count() == 2
    assert all(v.audience_only and v.contact_id is None for v in views)


def test_views_buffered_before_an_identification_join_the_contact_and_are_scored(
    buffered, consented, article
):
    ScoringRule.objects.create(name="Reads", kind="page_view", points=5)
    consented.get("/article/")
    consented.get("/article/")
    visitor = Visitor.objects.get()
    contact, _ = get_or_create_contact("reader@example.com")
    record("form_submitted", contact=contact, visitor=visitor, identify=True)  # proven: identifies
    assert buffer.pending() == 2 and not Touchpoint.objects.filter(kind="page_view").exists()
    buffer.flush()
    views = Touchpoint.objects.filter(kind="page_view")
    assert views.count() == 2 and {v.contact_id for v in views} == {contact.pk}
    contact.refresh_from_db()
    assert contact.score == 10  # the reactions ran for the buffered views


def test_a_new_session_touches_the_visitor_at_flush(buffered, consented, article):
    visitor = Visitor.objects.get()
    Visitor.objects.filter(pk=visitor.pk).update(last_seen_at=timezone.now().replace(year=2020))
    del consented.cookies["wj_sid"]
    consented.get("/article/")
    visitor.refresh_from_db()
    assert visitor.last_seen_at.year == 2020  # not on the request path
    buffer.flush()
    visitor.refresh_from_db()
    assert visitor.last_seen_at.year == timezone.now().year


def test_items_of_an_erased_visitor_or_deleted_page_are_dropped(buffered, consented, article):
    consented.get("/article/")
    Visitor.objects.all().delete()  # erased between the request and the flush
    visitor = Visitor.objects.create(consented_at=timezone.now())
    buffer.push(buffer.item("page_view", visitor=visitor, audience_only=False, page_id=10**8))
    assert buffer.flush() == 1
    kept = Touchpoint.objects.get()
    assert kept.visitor_id == visitor.pk and kept.page_id is None


def test_a_batch_claimed_by_a_worker_that_died_is_stored_once_on_recovery(buffered, article):
    visitor = Visitor.objects.create(consented_at=timezone.now())
    buffer.push(*(buffer.item("died", visitor=visitor, audience_only=False) for _ in range(3)))
    client = buffer._client()
    claim = client.register_script(buffer._CLAIM)
    dead = uuid.uuid4().hex
    raw = claim(
        keys=[buffer._key("queue"), buffer._key(f"batch:{dead}"), buffer._key("inflight")],
        args=[500, time.time() - 120, dead],  # claimed 2 minutes ago, then the worker died
    )
    assert len(raw) == 3 and buffer.pending() == 0 and buffer.in_flight() == 1
    assert buffer.recover(stale_seconds=3600) == 0  # not stale by that measure: left alone
    assert buffer.recover(stale_seconds=60) == 3
    assert buffer.recover(stale_seconds=0) == 0
    assert Touchpoint.objects.filter(kind="died").count() == 3
    assert buffer.in_flight() == 0


def test_a_batch_committed_before_its_worker_died_is_not_stored_twice(buffered):
    visitor = Visitor.objects.create(consented_at=timezone.now())
    raw = [buffer.item("once", visitor=visitor, audience_only=False)]
    import json

    encoded = [json.dumps(i) for i in raw]
    assert buffer.store_batch("b" * 32, encoded) == 1
    # The worker died after the commit, before it forgot the batch in Redis.
    client = buffer._client()
    client.rpush(buffer._key(f"batch:{'b' * 32}"), *encoded)
    client.zadd(buffer._key("inflight"), {"b" * 32: 0})
    assert buffer.recover(stale_seconds=1) == 0
    assert Touchpoint.objects.filter(kind="once").count() == 1
    assert buffer.in_flight() == 0


@pytest.mark.django_db(transaction=True)
def test_two_workers_flushing_at_once_store_every_item_exactly_once(buffered, settings):
    settings.WAGTAIL_JOURNEY = {**settings.WAGTAIL_JOURNEY, "TRACKING_BUFFER_BATCH": 50}
    visitors = [Visitor.objects.create(consented_at=timezone.now()) for _ in range(5)]
    total = 1000
    for n in range(0, total, 100):
        buffer.push(
            *(
                buffer.item(
                    "race", visitor=visitors[i % 5], audience_only=False, properties={"i": i}
                )
                for i in range(n, n + 100)
            )
        )
    assert run_in_threads(buffer.flush, 3) == []
    stored = sorted(
        p["i"] for p in Touchpoint.objects.filter(kind="race").values_list("properties", flat=True)
    )
    assert stored == list(range(total))
    assert buffer.pending() == 0 and buffer.in_flight() == 0


def test_a_flood_is_rate_limited_before_anything_is_buffered(buffered, consented, settings):
    settings.WAGTAIL_JOURNEY = {
        **settings.WAGTAIL_JOURNEY,
        "COLLECT_RATE_LIMIT_VISITOR": (3, 60),
    }
    statuses = [
        consented.post(
            "/journey/collect/",
            '{"events": [{"kind": "click"}]}',
            content_type="application/json",
            HTTP_ORIGIN="http://testserver",
            HTTP_USER_AGENT=BROWSER_UA,
        ).status_code
        for _ in range(5)
    ]
    assert statuses == [204, 204, 204, 429, 429]
    assert buffer.pending() == 3


def test_a_quiet_queue_gathers_before_flushing_and_a_full_batch_flushes_at_once(
    buffered, settings, monkeypatch
):
    settings.WAGTAIL_JOURNEY = {
        **settings.WAGTAIL_JOURNEY,
        "TRACKING_BUFFER_BATCH": 3,
        "TRACKING_BUFFER_GATHER_SECONDS": 0.5,
    }
    visitor = Visitor.objects.create(consented_at=timezone.now())
    for _ in range(4):
        buffer.push(buffer.item("gather", visitor=visitor, audience_only=False))
    assert buffered == [True, False]  # first item: gather; third: a full batch, at once
    slept = []
    monkeypatch.setattr(buffer.time, "sleep", slept.append)
    assert buffer.flush(gather=True) == 4  # 4 >= 3 waiting: no wait
    assert slept == []
    buffer.push(buffer.item("gather", visitor=visitor, audience_only=False))
    assert buffer.flush(gather=True) == 1
    assert slept == [0.5]


def test_the_visitor_limit_and_the_push_are_one_redis_call(buffered, consented, monkeypatch):
    from wagtail_journey import ratelimit

    calls = []
    client = buffer._client()
    original = type(client).execute_command

    def counted(self, *args, **kwargs):
        calls.append(args[0])
        return original(self, *args, **kwargs)

    beacon = {
        "data": '{"events": [{"kind": "click"}]}',
        "content_type": "application/json",
        "HTTP_ORIGIN": "http://testserver",
    }
    consented.post("/journey/collect/", **beacon)  # loads the script into Redis
    monkeypatch.setattr(type(client), "execute_command", counted)
    response = consented.post("/journey/collect/", **beacon)
    assert response.status_code == 204
    # The per-IP limit (before parsing), then the visitor's limit and the push together.
    assert len(calls) == 2, calls
    assert buffer.pending() == 2
    assert ratelimit.redis_counter("collect-visitor", Visitor.objects.get().key, 60) is not None


def test_a_page_view_is_stored_directly_when_redis_is_away(
    buffered, consented, article, monkeypatch
):
    from redis.exceptions import ConnectionError as RedisConnectionError

    def away(*args, **kwargs):
        raise RedisConnectionError("Connection refused")

    monkeypatch.setattr(buffer, "push", away)
    response = consented.get("/article/")
    assert response.status_code == 200
    view = Touchpoint.objects.get(kind="page_view")  # not lost: one INSERT instead
    assert view.page_id == article.pk and view.visitor.consented_at is not None


def test_one_item_the_database_refuses_does_not_hold_back_its_batch(buffered):
    visitor = Visitor.objects.create(consented_at=timezone.now())
    good = [buffer.item("ok", visitor=visitor, audience_only=False) for _ in range(3)]
    # A lone surrogate is valid JSON but PostgreSQL's jsonb refuses it (the
    # collect endpoint strips them; this item stands for any refused one).
    bad = buffer.item("bad", visitor=visitor, audience_only=False, properties={"a": "\ud800"})
    buffer.push(good[0], bad, *good[1:])
    assert buffer.flush() == 3
    assert Touchpoint.objects.filter(kind="ok").count() == 3
    assert not Touchpoint.objects.filter(kind="bad").exists()
    assert buffer.dead_letters() == 1
    assert buffer.pending() == 0 and buffer.in_flight() == 0


def test_views_keep_the_person_the_browser_belonged_to_when_they_happened(
    buffered, consented, article
):
    visitor = Visitor.objects.get()
    ana, _ = get_or_create_contact("ana@example.com")
    bob, _ = get_or_create_contact("bob@example.com")
    record("form_submitted", contact=ana, visitor=visitor, identify=True)  # Ana's browser
    consented.get("/article/")
    consented.get("/article/")
    record("form_submitted", contact=bob, visitor=visitor, identify=True)  # then Bob signs up on it
    buffer.flush()
    views = Touchpoint.objects.filter(kind="page_view")
    assert views.count() == 2 and {v.contact_id for v in views} == {ana.pk}


def test_views_of_a_contact_erased_before_the_flush_are_not_stored(buffered, consented, article):
    visitor = Visitor.objects.get()
    ana, _ = get_or_create_contact("ana@example.com")
    record("form_submitted", contact=ana, visitor=visitor, identify=True)
    consented.get("/article/")
    ana.delete()  # erased while the view waited in Redis
    buffer.flush()
    assert not Touchpoint.objects.filter(kind="page_view").exists()


def test_beacon_events_are_stored_directly_when_redis_is_away(buffered, consented, monkeypatch):
    from redis.exceptions import ConnectionError as RedisConnectionError

    def away(*args, **kwargs):
        raise RedisConnectionError("Connection refused")

    monkeypatch.setattr(buffer, "push_limited", away)
    response = consented.post(
        "/journey/collect/",
        '{"events": [{"kind": "video_play"}]}',
        content_type="application/json",
        HTTP_ORIGIN="http://testserver",
    )
    assert response.status_code == 204
    assert Touchpoint.objects.filter(kind="video_play").count() == 1


def _state_cookie(client) -> str | None:
    morsel = client.cookies.get("wj_vs")
    return morsel.value if morsel is not None and morsel.value else None


def test_an_audience_visitor_s_later_views_cost_no_query_and_stay_audience_only(
    exempt, buffered, web, article
):
    web.get("/article/")  # first view: the visitor is created, the state cookie issued
    visitor = Visitor.objects.get()
    assert _state_cookie(web)
    with CaptureQueriesContext(connection) as queries:
        assert web.get("/article/").status_code == 200
    assert not [q for q in queries.captured_queries if "wagtail_journey_visitor" in q["sql"]]
    assert buffer.flush() == 2
    views = Touchpoint.objects.filter(kind="page_view")
    assert {(v.visitor_id, v.audience_only, v.contact_id) for v in views} == {
        (visitor.pk, True, None)
    }


def test_a_forged_or_expired_state_cookie_is_read_from_the_database(
    exempt, buffered, web, article, settings
):
    web.get("/article/")
    mine = Visitor.objects.get()
    other = Visitor.objects.create(audience_only=True)
    # Another visitor's id with a made-up or re-used signature: not believed.
    signed_for_other = _state_cookie(web).replace(f"{mine.pk}.", f"{other.pk}.", 1)
    for forged in (signed_for_other, f"{other.pk}.{int(time.time())}.AAAA", "garbage"):
        web.cookies["wj_vs"] = forged
        with CaptureQueriesContext(connection) as queries:
            web.get("/article/")
        assert [q for q in queries.captured_queries if "wagtail_journey_visitor" in q["sql"]]
    settings.WAGTAIL_JOURNEY = {**settings.WAGTAIL_JOURNEY, "VISITOR_STATE_SECONDS": 0}
    web.get("/article/")
    buffer.flush()
    assert set(Touchpoint.objects.values_list("visitor_id", flat=True)) == {mine.pk}


def test_granting_consent_drops_the_state_cookie_and_views_are_recorded_in_full(
    exempt, buffered, web, article
):
    web.get("/article/")
    assert _state_cookie(web)
    grant_consent(web)
    assert _state_cookie(web) is None
    web.get("/article/")
    assert _state_cookie(web) is None  # consented visitors are read from the database
    buffer.flush()
    last = Touchpoint.objects.filter(kind="page_view").latest("occurred_at")
    assert not last.audience_only


def test_views_of_an_audience_visitor_purged_while_its_cookie_was_fresh_are_dropped(
    exempt, buffered, web, article
):
    web.get("/article/")
    buffer.flush()
    Visitor.objects.all().delete()  # retention or erasure
    web.get("/article/")  # read from the state cookie: no lookup
    assert buffer.flush() == 0
    assert not Visitor.objects.exists()
