"""Provider events through anymail's real webhook views (Postmark and SendGrid payloads)."""

from __future__ import annotations

import base64
import json

import pytest

from tests.emails.conftest import consented, queue_newsletter
from wagtail_journey.emails import sending
from wagtail_journey.emails.suppression import is_suppressed
from wagtail_journey.emails.webhooks import unknown_event_count
from wagtail_journey.models import OutboundEmail, Touchpoint
from wagtail_journey.models.outbound import OutboundReason, OutboundStatus
from wagtail_journey.privacy.consent import has_consent

pytestmark = pytest.mark.django_db

SECRET = "esp-user:long-enough-webhook-secret"
AUTH = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(SECRET.encode()).decode()}


@pytest.fixture(autouse=True)
def _secret(settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}


@pytest.fixture
def sent(marketing):
    """A marketing message sent through the pipeline (anymail's test backend)."""
    ana = consented(marketing, "ana@example.com", "Ana")
    row = queue_newsletter(ana, marketing)
    sending.send_due()
    row.refresh_from_db()
    OutboundEmail.objects.filter(pk=row.pk).update(
        esp_message_id="883953f4-6105-42a2-a16a-77a8eac79483"
    )
    row.refresh_from_db()
    assert row.status == OutboundStatus.SENT
    return row


def post(client, esp, payload, auth):
    url = f"/anymail/{esp}/tracking/"
    return client.post(url, data=json.dumps(payload), content_type="application/json", **auth)


def postmark(client, event, auth=AUTH):
    return post(client, "postmark", event, auth)


def sendgrid(client, events, auth=AUTH):
    return post(client, "sendgrid", events, auth)


def postmark_delivery(row, **extra):
    return {
        "RecordType": "Delivery",
        "ServerID": 23,
        "MessageStream": "outbound",
        "MessageID": row.esp_message_id,
        "Recipient": "ana@example.com",
        "Tag": "demo_newsletter",
        "DeliveredAt": "2026-11-05T16:33:54.9070259Z",
        "Details": "Test delivery webhook details",
        "Metadata": {"outbound_email": str(row.pk)},
        **extra,
    }


def postmark_bounce(row, record_type="Bounce", type_="HardBounce", type_code=1):
    return {
        "RecordType": record_type,
        "ID": 4323372036854775807,
        "Type": type_,
        "TypeCode": type_code,
        "Name": "Hard bounce",
        "Tag": "demo_newsletter",
        "MessageID": row.esp_message_id,
        "Metadata": {"outbound_email": str(row.pk)},
        "ServerID": 23,
        "MessageStream": "outbound",
        "Description": "The server was unable to deliver your message (ex: unknown user).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": "ana@example.com",
        "From": "hello@example.com",
        "BouncedAt": "2026-11-05T16:33:54.9070259Z",
        "DumpAvailable": True,
        "Inactive": True,
        "CanActivate": True,
        "Subject": "News for Ana",
    }


def sendgrid_event(row, event, sg_event_id, **extra):
    return {
        "email": "ana@example.com",
        "timestamp": 1795000000,
        "anymail_id": row.esp_message_id,
        "smtp-id": "<wrfRRvF7Q0GgwUo2CvDmEA@ismtpd0006p1sjc2.sendgrid.net>",
        "sg_event_id": sg_event_id,
        "sg_message_id": "wrfRRvF7Q0GgwUo2CvDmEA.filter0425p1mdw1.13037.57168B4A1D.0",
        "event": event,
        "category": ["demo_newsletter"],
        "outbound_email": str(row.pk),  # our metadata, merged in by SendGrid
        **extra,
    }


def kinds(contact):
    return sorted(Touchpoint.objects.filter(contact=contact).values_list("kind", flat=True))


def test_postmark_delivery_is_recorded_once_even_when_posted_twice(client, sent):
    for _ in range(2):
        assert postmark(client, postmark_delivery(sent)).status_code == 200
    assert Touchpoint.objects.filter(contact=sent.contact, kind="email_delivered").count() == 1
    sent.refresh_from_db()
    assert sent.status == OutboundStatus.DELIVERED


def test_postmark_hard_bounce_suppresses_the_address(client, sent):
    assert postmark(client, postmark_bounce(sent)).status_code == 200
    assert postmark(client, postmark_bounce(sent)).status_code == 200
    sent.refresh_from_db()
    assert (sent.status, sent.reason) == (OutboundStatus.BOUNCED, OutboundReason.HARD_BOUNCE)
    assert is_suppressed("ana@example.com")
    assert Touchpoint.objects.filter(kind="email_bounced").count() == 1
    # A later delivery event does not move a bounced message back.
    postmark(client, postmark_delivery(sent))
    sent.refresh_from_db()
    assert sent.status == OutboundStatus.BOUNCED


def test_postmark_spam_complaint_suppresses(client, sent):
    event = postmark_bounce(sent, record_type="SpamComplaint", type_="SpamComplaint", type_code=512)
    assert postmark(client, event).status_code == 200
    sent.refresh_from_db()
    assert sent.status == OutboundStatus.COMPLAINED
    assert is_suppressed("ana@example.com")
    assert "email_complained" in kinds(sent.contact)


def test_sendgrid_events_found_by_metadata_and_deduplicated(client, sent):
    events = [
        sendgrid_event(sent, "delivered", "ZyjAM5rnQmuI1KFInHQ3Nw", response="250 OK"),
        sendgrid_event(sent, "open", "FOTFFO0ecsBE-zxFXfs6WA", useragent="Mozilla/5.0"),
        sendgrid_event(sent, "click", "kCAi1KttyQO_Z0VLPuOa9w", url="https://example.com/offer"),
    ]
    assert sendgrid(client, events).status_code == 200
    assert sendgrid(client, events).status_code == 200  # SendGrid retried the batch
    assert kinds(sent.contact).count("email_delivered") == 1
    assert kinds(sent.contact).count("email_opened") == 1
    click = Touchpoint.objects.get(contact=sent.contact, kind="email_clicked")
    assert click.properties["url"] == "https://example.com/offer"


def test_sendgrid_unsubscribe_withdraws_consent(client, sent, marketing):
    assert has_consent(sent.contact, marketing.key)
    event = sendgrid_event(sent, "unsubscribe", "Z3Vlc3Q2NzQ1MjM0")
    assert sendgrid(client, [event]).status_code == 200
    assert not has_consent(sent.contact, marketing.key)


def test_sendgrid_found_by_message_id_without_metadata(client, sent):
    event = sendgrid_event(sent, "delivered", "abc123")
    del event["outbound_email"]
    assert sendgrid(client, [event]).status_code == 200
    sent.refresh_from_db()
    assert sent.status == OutboundStatus.DELIVERED


def test_events_for_unknown_messages_are_ignored_and_counted(client, sent):
    before = Touchpoint.objects.count()
    stranger = postmark_delivery(sent, MessageID="00000000-0000-0000-0000-000000000000")
    stranger["Metadata"] = {}
    assert postmark(client, stranger).status_code == 200
    other = sendgrid_event(sent, "delivered", "unknown-1", anymail_id="nope")
    other["outbound_email"] = "999999"
    assert sendgrid(client, [other]).status_code == 200
    assert unknown_event_count() == 2
    assert Touchpoint.objects.count() == before
    sent.refresh_from_db()
    assert sent.status == OutboundStatus.SENT


@pytest.mark.parametrize(
    "auth",
    [
        {},
        {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(b"esp-user:wrong").decode()},
    ],
    ids=["no-credentials", "wrong-secret"],
)
def test_webhooks_without_the_secret_are_rejected(client, sent, auth):
    before = Touchpoint.objects.count()
    assert postmark(client, postmark_bounce(sent), auth=auth).status_code == 400
    assert sendgrid(client, [sendgrid_event(sent, "bounce", "x1")], auth=auth).status_code == 400
    assert Touchpoint.objects.count() == before
    assert not is_suppressed("ana@example.com")


FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:130.0) Gecko/20100101 Firefox/130.0"


def test_machine_opens_are_recorded_but_flagged_and_score_nothing(client, sent):
    from datetime import timedelta

    from wagtail_journey.events import is_machine_made

    later = int((sent.sent_at + timedelta(hours=2)).timestamp())
    events = [
        # Apple Mail Privacy Protection, as SendGrid flags it
        sendgrid_event(sent, "open", "mpp-1", timestamp=later, sg_machine_open=True),
        # a link scanner's user agent
        sendgrid_event(
            sent,
            "click",
            "scan-1",
            timestamp=later,
            useragent="Mimecast/1.0",
            url="https://example.com/offer",
        ),  # fmt: skip
        # within seconds of sending
        sendgrid_event(
            sent,
            "open",
            "soon-1",
            timestamp=int(sent.sent_at.timestamp()) + 1,
            useragent="Mozilla/5.0 (Macintosh)",
        ),  # fmt: skip
        # a person, two hours later
        sendgrid_event(
            sent,
            "open",
            "human-1",
            timestamp=later,
            useragent="Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/130.0",
        ),  # fmt: skip
    ]
    assert sendgrid(client, events).status_code == 200
    by_key = {t.dedupe_key: t for t in Touchpoint.objects.filter(contact=sent.contact)}
    reasons = {
        key.split(":")[1]: (t.properties or {}).get("machine_reason")
        for key, t in by_key.items()
        if key.startswith("sendgrid:")
    }
    assert reasons == {
        "mpp-1": "provider_flag",
        "scan-1": "scanner",
        "soon-1": "too_soon",
        "human-1": None,
    }
    assert [is_machine_made(t) for k, t in sorted(by_key.items())].count(True) == 3
