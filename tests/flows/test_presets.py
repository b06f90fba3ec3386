"""Presets: one click creates editable drafts that work once published."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from tests.flows.conftest import consented
from wagtail_journey.events import record
from wagtail_journey.flows.engine import run_batch
from wagtail_journey.flows.presets import PRESETS, PresetError, create_from_preset
from wagtail_journey.models import EmailTemplate, Enrollment, Flow, OutboundEmail

pytestmark = pytest.mark.django_db


def publish_all(flow):
    for template in EmailTemplate.objects.filter(live=False):
        template.get_latest_revision().publish()
    flow.get_latest_revision().publish()
    flow.refresh_from_db()
    return flow


@pytest.mark.parametrize("key", sorted(PRESETS))
def test_each_preset_creates_valid_drafts_in_three_languages(purpose, key):
    Group.objects.create(name="Sales")
    flow = create_from_preset(key, language="fr")
    assert not flow.live and flow.latest_revision_id
    flow.full_clean()  # the editor can save it as it is
    emails = PRESETS[key].emails
    assert EmailTemplate.objects.filter(live=False).count() == 3 * len(emails)
    assert set(EmailTemplate.objects.values_list("language", flat=True)) <= {"en", "fr", "pt"}
    used = {n["value"]["template"] for n in flow.steps.raw_data if n["type"] == "send_email"}
    assert set(EmailTemplate.objects.filter(pk__in=used).values_list("language", flat=True)) <= {
        "fr"
    }


def test_a_preset_needs_a_marketing_purpose(db):
    with pytest.raises(PresetError):
        create_from_preset("welcome")


def test_the_published_welcome_preset_greets_confirmed_subscribers(
    purpose, django_capture_on_commit_callbacks
):
    flow = publish_all(create_from_preset("welcome", language="en"))
    contact = consented(purpose, first_name="Ana")
    with django_capture_on_commit_callbacks(execute=True):
        record("consent_confirmed", contact=contact, properties={"purpose": purpose.key})
    row = OutboundEmail.objects.get()
    assert row.template.language == "en" and row.template.name.startswith("Welcome 1")
    assert Enrollment.objects.get(flow=flow).waiting


def test_the_cart_preset_reminds_and_stops_at_the_order(
    purpose, django_capture_on_commit_callbacks
):
    publish_all(create_from_preset("cart"))
    contact = consented(purpose)
    with django_capture_on_commit_callbacks(execute=True):
        record("cart_updated", contact=contact, properties={"total": 40})
    run_batch(now=timezone.now() + timedelta(hours=1, minutes=1))
    assert OutboundEmail.objects.count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        record("order_completed", contact=contact)
    run_batch(now=timezone.now() + timedelta(days=2))
    assert OutboundEmail.objects.count() == 1
    assert Enrollment.objects.get().get_exit_reason_display() == "Reached a goal"


def test_an_editor_creates_a_flow_from_a_preset_and_edits_it(admin_client, purpose):
    presets = reverse("wagtail_journey_flow:presets")
    assert "Cart abandonment" in admin_client.get(presets).content.decode()
    response = admin_client.post(presets, {"preset": "cart"})
    flow = Flow.objects.get()
    assert response["Location"] == reverse("wagtail_journey_flow:edit", args=[flow.pk])
    edit = admin_client.get(response["Location"])
    assert edit.status_code == 200
    assert "Abandonment" in edit.content.decode()
    listing = admin_client.get(reverse("wagtail_journey_flow:list")).content.decode()
    assert "Start from a preset" in listing
