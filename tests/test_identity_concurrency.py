"""The confirmation-email throttle under concurrent submissions (PostgreSQL, real threads).

Someone scripting many submissions of one address at once must not slip past
DOUBLE_OPT_IN_THROTTLE: the count runs under a lock on the contact row.
"""

import pytest
from django.core import mail
from django.db import connection

from tests.forms_helpers import make_landing_page, make_purposes, submit_at_once
from wagtail_journey.identity import get_or_create_contact
from wagtail_journey.models import ConsentRecord, FormSubmission

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

N = 6


def test_concurrent_submissions_send_no_more_confirmations_than_the_throttle(home_page, settings):
    assert connection.vendor == "postgresql"
    settings.WAGTAIL_JOURNEY = {**settings.WAGTAIL_JOURNEY, "DOUBLE_OPT_IN_THROTTLE": (2, 3600)}
    page = make_landing_page(home_page, make_purposes())
    contact, _ = get_or_create_contact("victim@example.com")
    data = {"email": "victim@example.com", "consent_privacy": "on", "consent_marketing": "on"}
    submit_at_once(page, data, N)
    assert FormSubmission.objects.filter(contact=contact).count() == N
    grants = ConsentRecord.objects.filter(contact=contact, purpose__key="marketing")
    assert grants.filter(confirmation_skipped="").count() == 2
    assert grants.filter(confirmation_skipped="throttled").count() == N - 2
    assert len(mail.outbox) == 2
