"""The double opt-in confirmation goes through the pipeline as a transactional message."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from tests.forms_helpers import make_purposes
from wagtail_journey.emails.suppression import suppress
from wagtail_journey.identity import get_or_create_contact
from wagtail_journey.models import ConsentRecord, OutboundEmail
from wagtail_journey.models.outbound import OutboundReason, OutboundStatus
from wagtail_journey.privacy.consent import record_consent
from wagtail_journey.privacy.double_opt_in import schedule_confirmation

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(db):
    _, marketing = make_purposes()
    contact, _ = get_or_create_contact("doi@example.com")
    return record_consent(contact, marketing, "granted", method="form")


def test_the_confirmation_is_a_transactional_outbound_email_sent_after_commit(
    pending, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        schedule_confirmation(pending)
        schedule_confirmation(pending)  # a resubmission queues nothing more
        assert mail.outbox == []
    row = OutboundEmail.objects.get()
    assert row.message == "double_opt_in" and row.is_transactional
    assert row.context == {"consent_record": pending.pk}  # ids only: no address, no name
    assert row.status == OutboundStatus.SENT
    [message] = mail.outbox
    assert message.metadata == {"outbound_email": str(row.pk)}
    assert "List-Unsubscribe" not in message.extra_headers  # transactional
    link = re.search(r"(http://testserver/journey/confirm/[^/\s]+/)", message.body).group(1)
    assert link  # built from the configured root URL
    pending.refresh_from_db()
    assert pending.confirmation_sent_at is not None


def test_no_confirmation_to_a_suppressed_address_and_the_outbox_says_why(
    pending, django_capture_on_commit_callbacks
):
    suppress("doi@example.com", "complaint")
    with django_capture_on_commit_callbacks(execute=True):
        schedule_confirmation(pending)
    assert mail.outbox == []
    row = OutboundEmail.objects.get()
    assert (row.status, row.reason) == (OutboundStatus.SKIPPED, OutboundReason.SUPPRESSED)


def test_a_rolled_back_submission_sends_no_confirmation(pending):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        schedule_confirmation(pending)
        raise RuntimeError
    assert not OutboundEmail.objects.exists()
    assert ConsentRecord.objects.get(pk=pending.pk).confirmation_sent_at is None
