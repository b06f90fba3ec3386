"""Waits in the contact's time zone, across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from tests.flows.conftest import consented
from tests.flows.helpers import make_flow, trigger, wait
from wagtail_journey.flows.engine import run_batch
from wagtail_journey.flows.enrol import enrol
from wagtail_journey.flows.timing import next_window
from wagtail_journey.models import Enrollment

LISBON = ZoneInfo("Europe/Lisbon")


def test_until_monday_nine_lands_at_nine_local_across_the_spring_change():
    # Friday 27 March 2026, 10:00 in Lisbon (UTC+0); clocks go forward on Sunday 29.
    friday = datetime(2026, 3, 27, 10, 0, tzinfo=LISBON)
    at = next_window(friday, LISBON, [0], time(9, 0), time(12, 0))
    assert at.astimezone(LISBON).replace(tzinfo=None) == datetime(2026, 3, 30, 9, 0)
    assert at == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)  # summer time: UTC+1


def test_and_across_the_autumn_change():
    friday = datetime(2026, 10, 23, 18, 0, tzinfo=LISBON)  # clocks go back on Sunday 25
    at = next_window(friday, LISBON, [0], time(9, 0), None)
    assert at == datetime(2026, 10, 26, 9, 0, tzinfo=UTC)


def test_inside_the_window_goes_at_once_and_after_it_waits_for_the_next_day():
    tuesday = datetime(2026, 6, 2, 10, 30, tzinfo=LISBON)
    assert next_window(tuesday, LISBON, [], time(9), time(17)) == tuesday
    evening = datetime(2026, 6, 2, 18, 0, tzinfo=LISBON)
    assert next_window(evening, LISBON, [], time(9), time(17)) == datetime(
        2026, 6, 3, 9, 0, tzinfo=LISBON
    )


@pytest.mark.django_db
def test_a_wait_step_uses_the_contacts_zone(purpose):
    flow = make_flow(
        trigger=trigger("manual"), steps=[wait(0, "minutes", weekdays=[0], start="09:00:00")]
    )
    contact = consented(purpose, time_zone="America/New_York")
    enrol(flow, contact)
    saturday = datetime(2026, 3, 7, 15, 0, tzinfo=UTC)  # US clocks go forward on Sunday 8
    Enrollment.objects.update(next_run_at=saturday)
    run_batch(now=saturday)
    enrollment = Enrollment.objects.get()
    local = enrollment.next_run_at.astimezone(ZoneInfo("America/New_York"))
    assert (local.weekday(), local.hour, local.minute) == (0, 9, 0)
    assert enrollment.next_run_at == datetime(2026, 3, 9, 13, 0, tzinfo=UTC)
