"""Personal referral links: a visit records a ``referral`` touchpoint on the referrer."""

from __future__ import annotations

import pytest
from django.core import mail

from tests.emails.helpers import make_template
from tests.flows.conftest import consented
from wagtail_journey.emails.sending import queue_template, send_due
from wagtail_journey.flows.referrals import referral_url
from wagtail_journey.models import Touchpoint

pytestmark = pytest.mark.django_db


def test_a_visit_through_the_link_records_one_referral_a_day_per_browser(client, purpose):
    ana = consented(purpose)
    url = referral_url(ana.pk)
    path = url.split("testserver", 1)[-1] if "testserver" in url else url[url.index("/journey/") :]
    response = client.get(path)
    assert response.status_code == 302 and response["Location"] == "/"
    client.get(path)  # a reload
    assert Touchpoint.objects.filter(kind="referral", contact=ana).count() == 1
    assert client.get("/journey/r/forged-token/").status_code == 302
    assert client.post(path).status_code == 405
    assert Touchpoint.objects.filter(kind="referral").count() == 1


def test_the_merge_tag_puts_the_personal_link_in_the_email(purpose, settings):
    settings.WAGTAILADMIN_BASE_URL = "https://shop.example"
    body = [{"type": "paragraph", "value": "<p>Share: {{ referral_url }}</p>"}]
    template = make_template(name="Refer", subject="Share", body=body)
    ana = consented(purpose)
    row, _ = queue_template(template, ana, idempotency_key="refer")
    assert "referral_url" not in row.context  # computed when rendered, never stored
    send_due()
    (message,) = mail.outbox
    assert "https://shop.example/journey/r/" in message.body
    link = referral_url(ana.pk)
    assert link in message.body
