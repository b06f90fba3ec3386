"""Fixtures for the delivery tests: consented contacts and a code-built marketing message."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.forms_helpers import make_purposes
from wagtail_journey.emails import messages
from wagtail_journey.emails.messages import BuiltMessage
from wagtail_journey.models import ConsentRecord, Contact
from wagtail_journey.privacy.consent import record_consent


def build_newsletter(outbound, links) -> BuiltMessage:
    """A marketing message as a site would build one in code."""
    name = outbound.context.get("first_name") or "there"
    url = links.get("unsubscribe", "")
    return BuiltMessage(
        subject=f"News for {name}",
        text=f"Hello {name}!\n\nUnsubscribe: {url}\n",
        html=f'<p>Hello {name}!</p><p><a href="{url}">Unsubscribe</a></p>',
    )


messages.register("test_newsletter", build_newsletter)


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
        message="test_newsletter",
        context={"first_name": contact.first_name},
        **kw,
    )[0]


@pytest.fixture(autouse=True)
def _anymail_test_backend(settings):
    """anymail's test backend (Django's test runner switches to locmem, which has no
    anymail status): messages still land in ``mail.outbox``, with their ESP status."""
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
