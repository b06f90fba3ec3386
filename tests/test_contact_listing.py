"""The contact list (issue 14, item 1): search, every filter, sortable columns,
keyset pages, bounded counts, exports, and a query count that does not grow
with the rows shown."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.segment_helpers import make_segment
from wagtail_journey.contacts import paging
from wagtail_journey.models import ConsentPurpose, Contact, Segment
from wagtail_journey.privacy.consent import record_consent
from wagtail_journey.segments import add_static_members
from wagtail_journey.tags import add_tags

pytestmark = pytest.mark.django_db

URL = "/admin/wagtail_journey/contact/"


@pytest.fixture
def editor(client, admin_user):
    client.force_login(admin_user)
    return client


def emails_in(html: str) -> list[str]:
    """The contacts' emails in listing order (the title column's link text)."""
    return re.findall(r'id="snippet_\d+_title"[^>]*>\s*([^<\s]+@[^<\s]+)\s*<', html)


def listed(editor, **params) -> list[str]:
    response = editor.get(URL, params)
    assert response.status_code == 200, response.content.decode()[:2000]
    return emails_in(response.content.decode())


@pytest.fixture
def people(admin_user):
    now = timezone.now()
    ana = Contact.objects.create(
        email="ana@example.com",
        first_name="Ana",
        last_name="Silva",
        score=40,
        lifecycle_stage="lead",
        journey_stage="consideration",
        owner=admin_user,
        first_touch={"source": "google", "medium": "cpc", "campaign": "spring"},
        last_activity_at=now - timedelta(days=2),
    )
    bruno = Contact.objects.create(
        email="bruno@example.com",
        first_name="Bruno",
        last_name="Costa",
        score=5,
        lifecycle_stage="customer",
        journey_stage="retention",
        first_touch={"source": "newsletter", "campaign": "autumn"},
        last_activity_at=now - timedelta(days=40),
    )
    carla = Contact.objects.create(email="carla@example.com", first_name="Carla", score=-3)
    Contact.objects.filter(pk=carla.pk).update(created_at=now - timedelta(days=400))
    return {"ana": ana, "bruno": bruno, "carla": carla}


def test_the_listing_shows_contacts_in_words(editor, people):
    html = editor.get(URL).content.decode()
    assert "Lead" in html and "Customer" in html and ">lead<" not in html
    assert "Consideration" in html
    assert set(emails_in(html)) == {"ana@example.com", "bruno@example.com", "carla@example.com"}
    assert "3 contacts" in html


def test_search_by_email_and_by_name(editor, people):
    assert listed(editor, q="bruno@") == ["bruno@example.com"]
    assert listed(editor, q="silva") == ["ana@example.com"]
    assert listed(editor, q="Ana Silva") == ["ana@example.com"]
    assert listed(editor, q="nobody") == []


def test_each_filter(editor, people, admin_user):
    ana, bruno = people["ana"], people["bruno"]
    vip = make_segment("VIP", kind=Segment.Kind.STATIC)
    add_static_members(vip, [bruno.pk])
    add_tags(ana, "Hot lead")
    purpose = ConsentPurpose.objects.create(name="News", key="news", text="<p>News</p>")
    record_consent(ana, purpose, "granted", method="form")
    day = timedelta(days=1)
    today = timezone.localdate()

    assert listed(editor, segment=vip.pk) == ["bruno@example.com"]
    assert listed(editor, tag="hot-lead") == ["ana@example.com"]
    assert listed(editor, lifecycle_stage="customer") == ["bruno@example.com"]
    assert listed(editor, journey_stage="consideration") == ["ana@example.com"]
    assert listed(editor, owner=admin_user.pk) == ["ana@example.com"]
    assert set(listed(editor, score_min=0, score_max=10)) == {"bruno@example.com"}
    assert set(listed(editor, score_min=5)) == {"ana@example.com", "bruno@example.com"}
    assert listed(editor, consent="news:granted") == ["ana@example.com"]
    assert set(listed(editor, consent="news:missing")) == {
        "bruno@example.com",
        "carla@example.com",
    }
    assert listed(editor, source="Google") == ["ana@example.com"]
    assert listed(editor, campaign="autumn") == ["bruno@example.com"]
    old = (today - timedelta(days=300)).isoformat()
    assert listed(editor, created_at_to=old) == ["carla@example.com"]
    assert "carla@example.com" not in listed(editor, created_at_from=old)
    recent = (today - 10 * day).isoformat()
    assert listed(editor, last_activity_at_from=recent) == ["ana@example.com"]
    # Filters combine.
    assert listed(editor, segment=vip.pk, lifecycle_stage="lead") == []


def test_the_filter_panel_offers_labelled_choices(editor, people):
    make_segment("Newsletter readers", kind=Segment.Kind.STATIC)
    add_tags(people["ana"], "VIP")
    ConsentPurpose.objects.create(name="Marketing emails", key="marketing", text="<p>x</p>")
    html = editor.get(URL).content.decode()
    for text in (
        "Newsletter readers",
        "VIP",
        "Marketing emails: has consented",
        "Marketing qualified lead",
        "First-touch source",
        "Last activity",
    ):
        assert text in html, text


@pytest.mark.parametrize(
    "params",
    [
        {"segment": "99999"},
        {"segment": "abc"},
        {"tag": "no-such-tag"},
        {"consent": "nope"},
        {"owner": "x"},
        {"score_min": "abc", "score_max": "10" * 20},
        {"created_at_from": "2020-13-45"},
        {"last_activity_at_to": "yesterday"},
        {"ordering": "password"},
        {"after": "!!!"},
        {"before": "eyJ4Ijoy"},
        {"q": "x" * 5000},
    ],
)
def test_junk_parameters_never_break_the_listing(editor, people, params):
    response = editor.get(URL, params)
    assert response.status_code == 200


def test_columns_sort(editor, people):
    assert listed(editor, ordering="-score") == [
        "ana@example.com",
        "bruno@example.com",
        "carla@example.com",
    ]
    assert listed(editor, ordering="score")[0] == "carla@example.com"
    assert listed(editor, ordering="email")[0] == "ana@example.com"
    # Contacts never active come last, in either direction.
    assert listed(editor, ordering="-last_activity_at")[-1] == "carla@example.com"
    assert listed(editor, ordering="last_activity_at")[-1] == "carla@example.com"


def walk(editor, params, direction="next") -> list[list[str]]:
    pages = []
    url, query = URL, dict(params)
    while True:
        html = editor.get(url, query).content.decode()
        pages.append(emails_in(html))
        link = re.search(rf'href="([^"]+)" data-wj-page="{direction}"', html)
        if not link:
            return pages
        url, query = link.group(1).replace("&amp;", "&"), None


@pytest.mark.parametrize("ordering", ["-id", "score", "-last_activity_at", "email"])
def test_keyset_pages_cover_every_contact_once_forwards_and_back(editor, ordering):
    now = timezone.now()
    Contact.objects.bulk_create(
        Contact(
            email=f"p{i:03}@example.com",
            score=i % 7,  # many equal values: the id breaks ties
            last_activity_at=None if i % 5 == 0 else now - timedelta(hours=i % 11),
        )
        for i in range(120)
    )
    pages = walk(editor, {"ordering": ordering})
    assert [len(p) for p in pages] == [50, 50, 20]
    seen = [e for page in pages for e in page]
    assert len(seen) == len(set(seen)) == 120
    # Back from the last page: the same pages, in reverse.
    html = editor.get(URL, {"ordering": ordering}).content.decode()
    second = re.search(r'href="([^"]+)" data-wj-page="next"', html).group(1).replace("&amp;", "&")
    third_html = editor.get(
        re.search(r'href="([^"]+)" data-wj-page="next"', editor.get(second).content.decode())
        .group(1)
        .replace("&amp;", "&")
    ).content.decode()
    back = re.search(r'href="([^"]+)" data-wj-page="previous"', third_html).group(1)
    assert emails_in(editor.get(back.replace("&amp;", "&")).content.decode()) == pages[1]


def test_a_cursor_made_for_another_order_starts_at_the_top(editor):
    Contact.objects.bulk_create(Contact(email=f"q{i:03}@example.com", score=i) for i in range(60))
    html = editor.get(URL, {"ordering": "-score"}).content.decode()
    after = re.search(r"after=([^&\"]+)", html).group(1)
    first = listed(editor, ordering="email")
    assert listed(editor, ordering="email", after=after) == first


def test_counts_are_exact_up_to_the_limit_then_an_estimate(editor, monkeypatch):
    Contact.objects.bulk_create(Contact(email=f"r{i}@example.com") for i in range(12))
    assert "12 contacts" in editor.get(URL).content.decode()
    monkeypatch.setattr(paging, "EXACT_COUNT_LIMIT", 10)
    html = editor.get(URL).content.decode()
    assert "More than 10 contacts" in html
    count = paging.bounded_count(Contact.objects.all(), 5)
    assert (count.value, count.exact) == (5, False)
    assert paging.bounded_count(Contact.objects.all(), 50) == paging.Count(12, True)


def test_the_query_count_does_not_grow_with_the_rows(editor, admin_user):
    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = editor.get(URL, {"ordering": "-score"})
        assert response.status_code == 200
        return len(ctx.captured_queries)

    def add(n: int, start: int) -> None:
        for i in range(start, start + n):
            contact = Contact.objects.create(email=f"s{i}@example.com", owner=admin_user, score=i)
            add_tags(contact, "vip", f"t{i % 3}")

    add(2, 0)
    few = queries()
    add(60, 2)
    many = queries()
    assert many <= few, (few, many)


def test_the_listing_exports_what_it_shows_formula_safe(editor, people):
    Contact.objects.filter(pk=people["ana"].pk).update(first_name='=HYPERLINK("http://x")')
    add_tags(people["ana"], "VIP")
    response = editor.get(URL, {"export": "csv", "lifecycle_stage": "lead"})
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][:3] == ["Email", "First name", "Last name"]
    assert len(rows) == 2 and rows[1][0] == "ana@example.com"
    assert rows[1][1].startswith("'=") and "VIP" in rows[1] and "Lead" in rows[1]
    xlsx = editor.get(URL, {"export": "xlsx"})
    assert xlsx.status_code == 200 and "spreadsheetml" in xlsx["Content-Type"]
