"""Flows under concurrency on PostgreSQL with real threads: two triggers at once
enrol once; several workers running due steps at once run each step once."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.emails.helpers import make_template, marketing_purpose
from tests.flows.conftest import consented
from tests.flows.helpers import make_flow, send, step, trigger
from tests.threads import run_in_threads
from wagtail_journey.flows.engine import run_due
from wagtail_journey.flows.enrol import enrol
from wagtail_journey.models import Contact, Enrollment, OutboundEmail, StepRun

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("reentry", ["once", "any_time"])
def test_two_triggers_at_once_enrol_once(reentry):
    assert connection.vendor == "postgresql"
    purpose = marketing_purpose()
    flow = make_flow(trigger=trigger("manual"), steps=[step("add_tag", tag="x")], reentry=reentry)
    contact = consented(purpose)

    def trigger_it():
        enrol(flow, Contact.objects.get(pk=contact.pk))

    assert run_in_threads(trigger_it, 8) == []
    assert Enrollment.objects.filter(flow=flow, contact=contact).count() == 1


def test_workers_racing_over_due_steps_run_each_once(monkeypatch):
    # No task runs on commit (sync mode would run it inline): the workers below race.
    monkeypatch.setattr("wagtail_journey.flows.engine._enqueue", lambda *a: None)
    purpose = marketing_purpose()
    template = make_template(name="Hello")
    flow = make_flow(
        trigger=trigger("manual"),
        steps=[send(template), step("add_tag", tag="sent"), step("change_score", points=1)],
    )
    contacts = [consented(purpose, f"c{i}@example.com") for i in range(60)]
    for contact in contacts:
        enrol(flow, contact)

    assert run_in_threads(run_due, 4) == []
    assert OutboundEmail.objects.count() == 60
    assert StepRun.objects.count() == 180
    assert set(Contact.objects.values_list("score", flat=True)) == {1}
    assert Enrollment.objects.filter(ended_at__isnull=True).count() == 0
