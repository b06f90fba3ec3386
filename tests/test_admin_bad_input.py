"""Bad input to the package's admin never answers 500 (listings, filters, reports, actions).

Listings are found from the URL resolver (tests/admin_urls.py), so filters added
later are exercised too. Run on PostgreSQL as well: NUL bytes and out-of-range
numbers are refused by PostgreSQL where SQLite accepts them.
"""

import pytest
from django.urls import reverse

from tests.admin_urls import make_one_of_each, package_admin_urls
from wagtail_journey.models import Contact, ScoreChange, Segment

pytestmark = pytest.mark.django_db

JUNK_QUERIES = [
    {"q": "\x00"},
    {"q": "a\x00b", "p": "2"},
    {"p": "-1"},
    {"p": "99999999999999999999"},
    {"o": "zz.-99"},
    {"created_at__gte": "99999-99-99"},
    {"created_at__gte": "2024-02-31", "created_at__lt": "0000-00-00"},
    {"page__id__exact": "abc"},
    {"page__id__exact": "99999999999999999999999"},
    {"contact__id__exact": "\x00"},
    {"kind": "\x00", "journey_stage": "x" * 5000},
    {"kind__exact": "\x00"},
    {"lifecycle_stage__exact": "\x00"},
    {"day_from": "0000-01-01", "day_to": "99999-12-31"},
    {"day_from": "2024-13-45"},
    {"day_from": "\x00"},
    {"page": "abc"},
    {"page": "99999999999999999999999"},
    {"stage": "\x00", "active__exact": "maybe"},
    {"export": "csv", "day_from": "-1", "page": "\x00"},
    {"export": "xlsx", "q": "\x00"},
]


@pytest.fixture
def objects(home_page):
    return make_one_of_each(home_page)


def test_junk_filters_on_every_package_listing_never_answer_500(admin_client, objects):
    listings = [u for u in package_admin_urls() if not u.has_args]
    assert len(listings) > 10
    for admin_url in listings:
        for query in JUNK_QUERIES:
            response = admin_client.get(admin_url.url, query)
            assert response.status_code < 500, (admin_url.name, query, response.status_code)


def test_nul_bytes_get_a_clear_400(admin_client, objects):
    url = reverse("wagtail_journey_contact:list")
    response = admin_client.get(url, {"q": "ana\x00"})
    assert response.status_code == 400
    assert "invalid characters" in response.content.decode()


@pytest.mark.parametrize(
    "data",
    [
        {"action": "score", "delta": str(10**30)},
        {"action": "score", "delta": str(2**31)},
        {"action": "score", "delta": "9" * 5000},
        {"action": "score", "delta": "1e5"},
        {"action": "score", "delta": "5", "note": "x" * 10_000},  # refused, not cut
        {"action": "add_tag", "tags": "x" * 500},
        {"action": "add_tag", "tags": "ok,\x00bad"},
        {"action": "remove_tag", "tag": "y" * 500},
        {"action": "stage", "stage": "\x00"},
        {"action": "add_segment", "segment": "abc"},
        {"action": "add_segment", "segment": "99999999999999999999999"},
        {"action": "remove_segment", "segment": ""},
        {"action": "\x00"},
    ],
)
def test_junk_contact_actions_change_nothing_and_say_why(admin_client, objects, data):
    contact = objects["contact"]
    url = reverse("wagtail_journey_contact:action", args=[contact.pk])
    tags_before = set(contact.tags.names())
    response = admin_client.post(url, data, follow=True)
    assert response.status_code in (200, 400, 404)
    contact.refresh_from_db()
    assert contact.score == 0
    assert not ScoreChange.objects.exists()
    assert set(contact.tags.names()) == tags_before
    assert contact.lifecycle_stage == "subscriber"
    if response.status_code == 200:
        messages = [str(m) for m in response.context["messages"]]
        assert messages, data  # the editor is told why nothing happened


def test_a_score_change_beyond_the_integer_range_is_refused(admin_client, objects):
    contact = objects["contact"]
    Contact.objects.filter(pk=contact.pk).update(score=2**31 - 10)
    url = reverse("wagtail_journey_contact:action", args=[contact.pk])
    response = admin_client.post(url, {"action": "score", "delta": "100"}, follow=True)
    assert response.status_code == 200
    assert "out of range" in " ".join(str(m) for m in response.context["messages"])
    contact.refresh_from_db()
    assert contact.score == 2**31 - 10


@pytest.mark.parametrize(
    "name,data",
    [
        ("wagtail_journey_segment_rebuild", {}),
        ("wagtail_journey_segment_import", {"file": "\x00"}),
        ("wagtail_journey_segment_count", {"rules-count": "abc", "match": "\x00"}),
        ("wagtail_journey_segment_count", {"rules-count": "99999999999"}),
    ],
)
def test_junk_segment_actions_never_answer_500(admin_client, objects, name, data):
    segment = Segment.objects.get()
    args = [] if name.endswith("count") else [segment.pk]
    response = admin_client.post(reverse(name, args=args), data)
    assert response.status_code < 500
