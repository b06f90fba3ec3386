"""An editor's template through the pipeline: rendered at send time, nothing stored but ids."""

from __future__ import annotations

import pytest
from django.core import mail

from tests.emails.conftest import consented
from tests.emails.helpers import make_template, marketing_purpose
from wagtail_journey.emails import sending
from wagtail_journey.emails.rendering import NotPublished
from wagtail_journey.models import Contact, OutboundEmail
from wagtail_journey.models.outbound import OutboundReason, OutboundStatus

pytestmark = pytest.mark.django_db


def test_template_is_personalised_tracked_and_carries_its_unsubscribe_link():
    template = make_template(track_clicks=True)
    ana = consented(marketing_purpose(), "ana@example.com", "Ana")
    row, created = sending.queue_template(template, ana, idempotency_key=f"welcome:{ana.pk}")
    assert created and row.purpose == template.purpose
    assert row.revision_id == template.live_revision_id
    assert row.context == {"first_name": "Ana", "full_name": "Ana", "email": "ana@example.com"}
    sending.send_due()
    [msg] = mail.outbox
    assert msg.subject == "Welcome, Ana"
    html = msg.alternatives[0][0]
    assert "/journey/email/click/" in html  # links go through the signed redirect
    assert "https://shop.example/sale" not in html
    unsubscribe = msg.extra_headers["List-Unsubscribe"].strip("<>")
    assert unsubscribe in html and unsubscribe in msg.body
    row.refresh_from_db()
    assert row.status == OutboundStatus.SENT


def test_transactional_template_goes_without_consent_and_without_list_unsubscribe():
    template = make_template(transactional=True, name="Receipt")
    bob = Contact.objects.create(email="bob@example.com")
    row, _ = sending.queue_template(template, bob, idempotency_key="receipt:1")
    assert row.is_transactional
    sending.send_due()
    [msg] = mail.outbox
    assert "List-Unsubscribe" not in msg.extra_headers


def test_an_unpublished_template_cannot_be_queued():
    template = make_template(publish=False)
    ana = consented(marketing_purpose(), "ana@example.com")
    with pytest.raises(NotPublished):
        sending.queue_template(template, ana, idempotency_key="x")
    assert not OutboundEmail.objects.exists()


def test_a_template_deleted_before_sending_skips_with_a_clear_reason():
    template = make_template()
    ana = consented(marketing_purpose(), "ana@example.com")
    row, _ = sending.queue_template(template, ana, idempotency_key="gone")
    template.delete()
    sending.send_due()
    row.refresh_from_db()
    assert (row.status, row.reason) == (OutboundStatus.SKIPPED, OutboundReason.TEMPLATE_GONE)
    assert mail.outbox == []
