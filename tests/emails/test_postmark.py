"""anymail's real Postmark backend over real HTTP to a local server: what the ESP receives."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.emails.conftest import consented, queue_newsletter
from tests.emails.esp_server import PostmarkServer
from wagtail_journey.emails import sending
from wagtail_journey.models import OutboundEmail
from wagtail_journey.models.outbound import OutboundReason, OutboundStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def postmark(settings):
    with PostmarkServer() as server:
        settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
        settings.ANYMAIL = {
            "POSTMARK_SERVER_TOKEN": "test-token",
            "POSTMARK_API_URL": server.url,
            "REQUESTS_TIMEOUT": 2,
        }
        yield server


def test_each_consented_contact_gets_one_request_with_headers_and_metadata(marketing, postmark):
    rows = [
        queue_newsletter(consented(marketing, f"c{i}@example.com", f"C{i}"), marketing)
        for i in range(3)
    ]
    counts = sending.send_due()
    assert counts.get("sent") == 3, (counts, list(OutboundEmail.objects.values("status", "detail")))
    assert sorted(postmark.sent_to()) == ["c0@example.com", "c1@example.com", "c2@example.com"]
    by_to = {r["json"]["To"]: r["json"] for r in postmark.requests}
    for row in rows:
        row.refresh_from_db()
        body = by_to[row.contact.email]
        assert body["Metadata"] == {"outbound_email": str(row.pk)}
        headers = {h["Name"]: h["Value"] for h in body["Headers"]}
        assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert headers["List-Unsubscribe"].startswith("<http://testserver/journey/unsubscribe/")
        assert row.status == OutboundStatus.SENT
        assert row.esp_message_id and row.esp_message_id != "0"
    assert len({r.esp_message_id for r in OutboundEmail.objects.all()}) == 3


def test_provider_busy_is_retried_later_and_sent_once(marketing, postmark):
    row = queue_newsletter(consented(marketing, "ana@example.com"), marketing)
    postmark.script = [(503, {"ErrorCode": 100, "Message": "Maintenance"}, 0)]
    sending.send_due()
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboundStatus.PENDING, 1)
    assert row.due_at > timezone.now()
    assert "503" in row.detail or "Maintenance" in row.detail
    sending.send_due()  # not due yet: nothing posted
    assert len(postmark.requests) == 1
    sending.send_batch(now=timezone.now() + timedelta(minutes=5))
    row.refresh_from_db()
    assert row.status == OutboundStatus.SENT
    assert len(postmark.requests) == 2


def test_provider_refusal_marks_the_message_failed_with_the_reason(marketing, postmark):
    row = queue_newsletter(consented(marketing, "ana@example.com"), marketing)
    postmark.script = [(422, {"ErrorCode": 300, "Message": "Invalid 'From' address"}, 0)]
    sending.send_due()
    row.refresh_from_db()
    assert (row.status, row.reason) == (OutboundStatus.FAILED, OutboundReason.ESP_REJECTED)
    assert "From" in row.detail
    sending.send_batch(now=timezone.now() + timedelta(days=1))
    assert len(postmark.requests) == 1  # never retried


def test_no_answer_marks_the_message_unknown_never_resent(marketing, postmark, settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "REQUESTS_TIMEOUT": 0.3}
    row = queue_newsletter(consented(marketing, "ana@example.com"), marketing)
    postmark.script = [(200, None, 1.0)]  # answers after the client gave up
    sending.send_due()
    row.refresh_from_db()
    assert (row.status, row.reason) == (OutboundStatus.UNKNOWN, OutboundReason.NO_ANSWER)
    sending.sweep()
    assert len(postmark.requests) == 1


def test_unreachable_provider_is_retried_then_fails(marketing, settings):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {
        "POSTMARK_SERVER_TOKEN": "t",
        "POSTMARK_API_URL": f"http://127.0.0.1:{port}/",
    }
    settings.WAGTAIL_JOURNEY = {**settings.WAGTAIL_JOURNEY, "EMAIL_MAX_ATTEMPTS": 2}
    row = queue_newsletter(consented(marketing, "ana@example.com"), marketing)
    sending.send_due()
    row.refresh_from_db()
    assert row.status == OutboundStatus.PENDING
    sending.send_batch(now=timezone.now() + timedelta(hours=1))
    row.refresh_from_db()
    assert (row.status, row.reason) == (OutboundStatus.FAILED, OutboundReason.RETRIES_EXHAUSTED)
