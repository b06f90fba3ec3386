"""The demo fills every report with months of figures, once."""

import io

import pytest
from django.core.management import call_command

from wagtail_journey.models import Contact, Touchpoint
from wagtail_journey.reports import dashboard, funnel
from wagtail_journey.tracking import audience

pytestmark = pytest.mark.django_db


def test_demo_traffic_fills_the_reports_once():
    call_command("load_demo", stdout=io.StringIO())
    counts = (Contact.objects.count(), Touchpoint.objects.count())
    start, end = audience.default_period()
    figures = dashboard.figures(start, end)
    assert figures.visitors > 100
    assert 10 < (figures.bounce_rate or 0) < 70
    assert figures.orders and figures.customers and figures.submissions
    assert figures.stages.get("lead")
    sources = dashboard.sources(start, end)
    assert sum(r.get("visitors") for r in sources) == figures.visitors
    stages = {r.stage: r for r in funnel.lifecycle_funnel(start, end)}
    assert stages["customer"].contacts and stages["lead"].median_days is not None
    assert dashboard.form_pages(start, end)[0].get("form_submissions")

    call_command("load_demo", stdout=io.StringIO())
    assert (Contact.objects.count(), Touchpoint.objects.count()) == counts
    assert dashboard.figures(start, end) == figures
