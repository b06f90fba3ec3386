"""Fixtures for the visitors' rights pages: a consented contact and a browser in their centre."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.utils import timezone

from tests.forms_helpers import make_purposes
from wagtail_journey.models import ConsentRecord, Contact
from wagtail_journey.privacy import preferences
from wagtail_journey.privacy.consent import record_consent


@pytest.fixture(autouse=True)
def _anymail_test_backend(settings):
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"


@pytest.fixture(autouse=True)
def _back_to_english():
    """A French request leaves French active in the thread (LocaleMiddleware): reset it."""
    yield
    from django.utils import translation

    translation.activate("en")


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run what the request queued after its commit (emails, tasks), as outside a test."""

    def run():
        return django_capture_on_commit_callbacks(execute=True)

    return run


@pytest.fixture
def purposes(db):
    return make_purposes()


@pytest.fixture
def ana(purposes):
    """Ana granted both purposes (marketing confirmed by double opt-in)."""
    privacy, marketing = purposes
    contact = Contact.objects.create(email="ana@example.com", first_name="Ana", phone="+351 1234")
    record_consent(contact, privacy, "granted", method="form")
    rec = record_consent(contact, marketing, "granted", method="form")
    ConsentRecord.objects.filter(pk=rec.pk).update(confirmed_at=timezone.now())
    return contact


def path_of(url: str) -> str:
    return url.removeprefix("http://testserver")


def link_in(message, pattern: str = r"/journey/preferences/open/[^/\s\"']+/") -> str:
    found = re.search(pattern, message.body)
    assert found, message.body
    return found.group(0)


def open_centre(client, contact) -> None:
    """The browser follows a requested link and presses the button: it has a session."""
    path = path_of(preferences.requested_link(contact.pk))
    response = client.post(path)
    assert response.status_code == 302
    assert response["Location"] == "/journey/preferences/"


def last_mail():
    assert mail.outbox, "no email was sent"
    return mail.outbox[-1]
