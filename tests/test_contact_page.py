"""The contact page (issue 14, item 1): the whole timeline, anonymous visits
before identification included, grouped by visit, filterable by kind, paged;
emails with their events; sections added with one line."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from wagtail_journey import record
from wagtail_journey.admin import contact_views
from wagtail_journey.models import Contact, Touchpoint, Visitor

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(client, admin_user):
    client.force_login(admin_user)
    return client


def page_of(editor, contact, **params) -> str:
    response = editor.get(f"/admin/wagtail_journey/contact/inspect/{contact.pk}/", params)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def identified(article, home_page):
    """Two anonymous visits, then a form submission that says who this is, then a visit."""
    now = timezone.now()
    visitor = Visitor.objects.create()
    record(
        "page_view",
        visitor=visitor,
        page=home_page,
        session=1,
        occurred_at=now - timedelta(days=3),
        utm={"source": "google", "medium": "cpc"},
    )
    record(
        "page_view",
        visitor=visitor,
        page=article,
        session=1,
        occurred_at=now - timedelta(days=3, minutes=-2),
    )
    record(
        "page_view", visitor=visitor, page=article, session=2, occurred_at=now - timedelta(days=2)
    )
    submitted = record(
        "form_submitted",
        email="ana@example.com",
        visitor=visitor,
        page=article,
        session=2,
        occurred_at=now - timedelta(days=2, minutes=-1),
    )
    contact = submitted.contact
    record(
        "page_view",
        visitor=visitor,
        page=home_page,
        session=3,
        occurred_at=now - timedelta(hours=1),
    )
    return contact


def timeline_items(html: str) -> list[str]:
    section = html[html.index('id="wj-timeline-heading"') :]
    return re.findall(r'<li data-kind="([a-z_]+)"( data-anonymous="true")?', section)


def test_the_anonymous_visits_before_the_form_are_on_the_timeline(editor, identified, article):
    assert Touchpoint.objects.filter(contact=identified).count() >= 5
    html = page_of(editor, identified)
    items = [(k, a) for k, a in timeline_items(html) if k in ("page_view", "form_submitted")]
    kinds = [k for k, _ in items]
    assert kinds == ["page_view", "form_submitted", "page_view", "page_view", "page_view"]
    anonymous = [bool(a) for _k, a in items]
    # Newest first: the visit after the form is known; the form is not anonymous;
    # the three page views before it are.
    assert anonymous == [False, False, True, True, True]
    assert html.count("before identification") >= 2
    # Grouped by visit, with the visit's source in words.
    assert html.count("Visit from") >= 3
    assert "google / cpc" in html
    assert f"“{article.title}”" in html and "Page view" in html and "Form submitted" in html


def test_the_timeline_filters_by_kind(editor, identified):
    html = page_of(editor, identified, kind="form_submitted")
    assert [k for k, _ in timeline_items(html)] == ["form_submitted"]
    assert '<option value="form_submitted" selected>' in html
    # Every kind the contact has is offered, by label.
    assert ">Page view</option>" in html


def test_the_timeline_is_paged_and_its_cost_does_not_grow(editor, article):
    contact = Contact.objects.create(email="long@example.com")
    now = timezone.now()

    def add(n, start):
        Touchpoint.objects.bulk_create(
            Touchpoint(
                kind="page_view",
                contact=contact,
                page=article,
                session=i // 10,
                occurred_at=now - timedelta(minutes=i),
            )
            for i in range(start, start + n)
        )

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            page_of(editor, contact)
        return len(ctx.captured_queries)

    add(5, 0)
    few = queries()
    add(245, 5)
    many = queries()
    assert many <= few, (few, many)
    html = page_of(editor, contact)
    assert len(timeline_items(html)) == 100
    older = re.search(r'href="([^"]*after=[^"#]+)[^"]*">Older', html).group(1).replace("&amp;", "&")
    seen = set()
    pages = 0
    while True:
        pages += 1
        response = editor.get(older)
        body = response.content.decode()
        seen.update(re.findall(r"<li data-kind=", body))
        link = re.search(r'href="([^"]*after=[^"#]+)[^"]*">Older', body)
        if not link:
            break
        older = link.group(1).replace("&amp;", "&")
    assert pages == 2  # 250 touchpoints: 100 on the first page, then 100 and 50
    assert "Newest" in body
    # A broken cursor shows the newest page.
    assert len(timeline_items(page_of(editor, contact, after="garbage"))) == 100


def test_emails_and_their_events(editor, identified):
    from tests.emails.helpers import make_template
    from wagtail_journey.emails.sending import queue_template

    outbound, _ = queue_template(make_template(), identified, idempotency_key="page-test")
    record(
        "email_opened",
        contact=identified,
        properties={"outbound_email": outbound.pk, "esp": "test"},
    )
    record(
        "email_clicked",
        contact=identified,
        properties={
            "outbound_email": outbound.pk,
            "esp": "test",
            "url": "https://example.com/offer",
        },
    )
    html = page_of(editor, identified)
    section = html[html.index('id="wj-emails-heading"') :]
    assert "Email opened" in section and "Email link clicked" in section
    assert "https://example.com/offer" in section
    assert f"/admin/journey/outbox/inspect/{outbound.pk}/" in section


def test_a_section_is_added_with_one_line(editor, identified, monkeypatch):
    extra = contact_views.Section(
        "wagtail_journey/admin/contact/tags.html",
        lambda contact, request: {"tags": ["from-a-panel"]},
    )
    monkeypatch.setattr(contact_views, "SECTIONS", [*contact_views.SECTIONS, extra])
    assert "from-a-panel" in page_of(editor, identified)


def test_the_page_reads_in_french(client, admin_user, identified):
    from wagtail.users.models import UserProfile

    profile = UserProfile.get_for_user(admin_user)
    profile.preferred_language = "fr"
    profile.save()
    client.force_login(admin_user)
    html = page_of(client, identified)
    for english in ("Timeline", "before identification", "Every kind", "Emails", "Outside a visit"):
        assert english not in html, english
