"""Fixtures for flow tests: a clean plan cache, consented contacts, published templates."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.emails.helpers import make_template, marketing_purpose
from wagtail_journey.models import ConsentRecord, Contact
from wagtail_journey.privacy.consent import record_consent


@pytest.fixture(autouse=True)
def _fresh_plans():
    """Revision ids repeat across rolled-back tests: never reuse a cached plan or email."""
    from wagtail_journey.emails import rendering
    from wagtail_journey.flows import plan

    plan._cache.clear()
    rendering.clear_cache()  # compiled emails are cached by revision id too
    yield
    plan._cache.clear()
    rendering.clear_cache()


@pytest.fixture(autouse=True)
def _anymail_test_backend(settings):
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"


@pytest.fixture
def purpose(db):
    return marketing_purpose()


@pytest.fixture
def template(purpose):
    return make_template(name="Welcome")


def consented(purpose, email: str = "ana@example.com", **fields) -> Contact:
    contact = Contact.objects.create(email=email, **fields)
    record = record_consent(contact, purpose, "granted", method="form")
    ConsentRecord.objects.filter(pk=record.pk).update(confirmed_at=timezone.now())
    return contact
