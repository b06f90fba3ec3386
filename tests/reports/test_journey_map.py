"""The journey map: what contacts did after a starting point, step by step."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.reports.helpers import at
from wagtail_journey import record
from wagtail_journey.models import Contact, Segment, SegmentMembership
from wagtail_journey.reports.journey_map import journey_map

pytestmark = pytest.mark.django_db

DAY = date(2026, 4, 1)


def happen(contact, *events):
    for hours, kind, page in events:
        record(kind, contact=contact, page=page, occurred_at=at(DAY, 8) + timedelta(hours=hours))


@pytest.fixture
def journeys(home_page, article):
    ana, bruno, carla = (Contact.objects.create(email=f"{n}@example.com") for n in "abc")
    happen(ana, (0, "email_opened", None), (1, "page_view", article), (3, "order_completed", None))
    happen(
        bruno, (0, "email_opened", None), (2, "page_view", article), (2.5, "page_view", home_page)
    )
    happen(carla, (0, "email_opened", None))
    return ana, bruno, carla


def test_what_contacts_did_after_opening_an_email(journeys, article):
    result = journey_map(DAY, DAY, "email_opened")
    assert result.contacts == 3
    assert result.steps[0] == [("email_opened", 3)]
    assert result.steps[1] == [("page_view: Article", 2)]
    assert sorted(result.steps[2]) == [("order_completed", 1), ("page_view: Home", 1)]
    assert result.stopped[:2] == [1, 0]  # Carla stopped after the email
    first = [e for e in result.edges if e.step == 1]
    assert [(e.source, e.target, e.contacts, e.median_hours) for e in first] == [
        ("email_opened", "page_view: Article", 2, 1.5)
    ]
    # Bookkeeping touchpoints (score or stage changes) are not steps.
    assert not any("score_changed" in n for step in result.steps for n, _c in step)


def test_filters_by_segment_and_starting_page(journeys, article):
    ana = journeys[0]
    segment = Segment.objects.create(name="Buyers", kind=Segment.Kind.STATIC)
    SegmentMembership.objects.create(segment=segment, contact=ana, entered_at=at(DAY, 7))
    result = journey_map(DAY, DAY, "email_opened", segment_id=segment.pk)
    assert result.contacts == 1
    from_page = journey_map(DAY, DAY, "page_view", page_id=article.pk)
    assert from_page.steps[0] == [("page_view: Article", 2)]
    assert dict(from_page.steps[1]) == {"order_completed": 1, "page_view: Home": 1}
    assert (
        journey_map(DAY - timedelta(days=9), DAY - timedelta(days=1), "email_opened").contacts == 0
    )
