"""Fixtures for the delivery tests: consented contacts and the demo's code-built newsletter."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.forms_helpers import make_purposes
from wagtail_journey.models import ConsentRecord, Contact
from wagtail_journey.privacy.consent import record_consent


@pytest.fixture
def marketing(db):
    return make_purposes()[1]


def consented(purpose, email: str, first_name: str = "") -> Contact:
    contact = Contact.objects.create(email=email, first_name=first_name)
    record = record_consent(contact, purpose, "granted", method="form")
    ConsentRecord.objects.filter(pk=record.pk).update(confirmed_at=timezone.now())
    return contact


def queue_newsletter(contact, purpose, key: str | None = None, **kw):
    from wagtail_journey.emails.sending import queue

    return queue(
        idempotency_key=key or f"test:{contact.pk}",
        contact=contact,
        purpose=purpose,
        message="demo_newsletter",
        context={"first_name": contact.first_name},
        **kw,
    )[0]


@pytest.fixture(autouse=True)
def _anymail_test_backend(settings):
    """anymail's test backend (Django's test runner switches to locmem, which has no
    anymail status): messages still land in ``mail.outbox``, with their ESP status."""
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
