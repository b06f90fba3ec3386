"""The sending pipeline with anymail's test backend: gate, claims, idempotency, reasons."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from tests.emails.conftest import consented, queue_newsletter
from wagtail_journey.emails import sending
from wagtail_journey.emails.suppression import suppress
from wagtail_journey.models import ConsentRecord, Contact, OutboundEmail
from wagtail_journey.models.outbound import OutboundReason, OutboundStatus
from wagtail_journey.privacy.consent import record_consent

pytestmark = pytest.mark.django_db


def journey(**extra):
    from django.conf import settings

    return override_settings(WAGTAIL_JOURNEY={**settings.WAGTAIL_JOURNEY, **extra})


def test_queued_message_is_sent_after_commit_with_headers_and_opaque_metadata(
    marketing, django_capture_on_commit_callbacks
):
    ana = consented(marketing, "ana@example.com", "Ana")
    with django_capture_on_commit_callbacks(execute=True):
        row = queue_newsletter(ana, marketing)
        assert mail.outbox == []  # nothing leaves before the transaction commits
    row.refresh_from_db()
    assert row.status == OutboundStatus.SENT
    assert row.sent_at is not None
    [msg] = mail.outbox
    assert msg.to == ["ana@example.com"]
    assert msg.subject == "News for Ana"
    assert msg.metadata == {"outbound_email": str(row.pk)}
    assert "ana" not in " ".join(msg.tags).lower()
    assert msg.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = msg.extra_headers["List-Unsubscribe"]
    assert link.startswith("<http://testserver/journey/unsubscribe/")
    assert link.strip("<>") in msg.body  # the visible link is the same URL
    assert "ana" not in link.lower()
    assert row.esp_message_id == "0"  # anymail's test backend: its index in the outbox


def test_same_idempotency_key_queues_one_message(marketing, django_capture_on_commit_callbacks):
    ana = consented(marketing, "ana@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        queue_newsletter(ana, marketing, key="welcome:1")
        queue_newsletter(ana, marketing, key="welcome:1")
    assert OutboundEmail.objects.count() == 1
    assert len(mail.outbox) == 1


def test_duplicated_task_delivery_sends_once(marketing):
    ana = consented(marketing, "ana@example.com")
    row = queue_newsletter(ana, marketing)  # on_commit not run: the task is ours to call
    assert sending.deliver.call([row.pk]) == {"claimed": 1, "sent": 1, "skipped": 0}
    assert sending.deliver.call([row.pk]) == {"claimed": 0, "skipped": 0}
    sending.sweep()
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    "change", ["withdraw", "suppress", "erase", "unconfirmed", "restrict", "object"]
)
def test_contact_changed_between_queueing_and_sending_gets_nothing(marketing, change):
    ana = consented(marketing, "ana@example.com")
    row = queue_newsletter(ana, marketing)
    expected = {
        "withdraw": OutboundReason.NO_CONSENT,
        "suppress": OutboundReason.SUPPRESSED,
        "erase": OutboundReason.ERASED,
        "unconfirmed": OutboundReason.NO_CONSENT,
        "restrict": OutboundReason.RESTRICTED,
        "object": OutboundReason.OBJECTED,
    }[change]
    if change == "withdraw":
        record_consent(ana, marketing, "withdrawn", method="preference_centre")
    elif change == "suppress":
        suppress("ANA@example.com ", "editor", "asked by phone")
    elif change == "erase":
        ana.delete()
    elif change == "restrict":
        Contact.objects.filter(pk=ana.pk).update(restricted_at=timezone.now())
    elif change == "object":
        Contact.objects.filter(pk=ana.pk).update(objects_to_marketing_at=timezone.now())
    else:
        ConsentRecord.objects.filter(contact=ana).update(confirmed_at=None)
    counts = sending.send_due()
    assert counts["skipped"] == 1
    assert mail.outbox == []
    row.refresh_from_db()
    assert row.status == OutboundStatus.SKIPPED
    assert row.reason == expected
    assert row.get_reason_display()  # a sentence an editor can read
    if change == "erase":
        assert row.contact_id is None and row.context == {}


def test_transactional_message_needs_no_consent_but_respects_suppression(db):
    ana = Contact.objects.create(email="ana@example.com")
    bob = Contact.objects.create(email="bob@example.com")
    suppress("bob@example.com", "complaint")
    for contact in (ana, bob):
        sending.queue(
            idempotency_key=f"t:{contact.pk}",
            contact=contact,
            message="demo_newsletter",
            context={},
        )
    sending.send_due()
    assert [m.to for m in mail.outbox] == [["ana@example.com"]]
    assert "List-Unsubscribe" not in mail.outbox[0].extra_headers  # transactional
    assert OutboundEmail.objects.get(contact=bob).reason == OutboundReason.SUPPRESSED


def test_restricted_or_objecting_contact_still_gets_the_mail_they_asked_for(db):
    """Restriction and objection stop marketing, not an export link or a confirmation."""
    ana = Contact.objects.create(email="ana@example.com", restricted_at=timezone.now())
    bob = Contact.objects.create(email="bob@example.com", objects_to_marketing_at=timezone.now())
    for contact in (ana, bob):
        sending.queue(
            idempotency_key=f"t:{contact.pk}",
            contact=contact,
            message="demo_newsletter",
            context={},
        )
    sending.send_due()
    assert sorted(m.to[0] for m in mail.outbox) == ["ana@example.com", "bob@example.com"]


def test_frequency_cap_skips_the_extra_marketing_messages(marketing):
    ana = consented(marketing, "ana@example.com")
    with journey(EMAIL_FREQUENCY_CAP=(2, 24)):
        for i in range(3):
            queue_newsletter(ana, marketing, key=f"n:{i}")
        sending.send_due()
        queue_newsletter(ana, marketing, key="n:later")
        sending.send_due()
    assert len(mail.outbox) == 2
    reasons = sorted(OutboundEmail.objects.values_list("reason", flat=True))
    assert reasons.count(OutboundReason.FREQUENCY_CAP) == 2


def test_quiet_hours_hold_marketing_but_not_transactional(marketing):
    ana = consented(marketing, "ana@example.com")
    queue_newsletter(ana, marketing)
    sending.queue(idempotency_key="t", contact=ana, message="demo_newsletter")
    now = timezone.now()
    with journey(EMAIL_QUIET_HOURS=(now.hour, (now.hour + 2) % 24)):
        sending.send_due()
    assert len(mail.outbox) == 1  # the transactional one
    assert OutboundEmail.objects.filter(status=OutboundStatus.PENDING).count() == 1
    sending.send_due()  # quiet hours over
    assert len(mail.outbox) == 2


def test_a_message_scheduled_later_waits_for_its_time(marketing):
    ana = consented(marketing, "ana@example.com")
    row = queue_newsletter(ana, marketing, due_at=timezone.now() + timedelta(hours=1))
    sending.send_due()
    assert mail.outbox == []
    sending.send_batch(now=timezone.now() + timedelta(hours=2))
    row.refresh_from_db()
    assert row.status == OutboundStatus.SENT


def test_a_claim_left_by_a_dead_worker_becomes_unknown_never_resent(marketing):
    ana = consented(marketing, "ana@example.com")
    row = queue_newsletter(ana, marketing)
    long_ago = timezone.now() - timedelta(hours=1)
    OutboundEmail.objects.filter(pk=row.pk).update(
        status=OutboundStatus.SENDING, claimed_at=long_ago
    )
    counts = sending.sweep()
    assert counts["unknown"] == 1
    row.refresh_from_db()
    assert row.status == OutboundStatus.UNKNOWN
    assert row.reason == OutboundReason.NO_ANSWER
    assert mail.outbox == []


def test_unknown_message_key_is_skipped_with_a_reason(db):
    ana = Contact.objects.create(email="ana@example.com")
    row, _ = sending.queue(idempotency_key="x", contact=ana, message="no_such_message")
    sending.send_due()
    row.refresh_from_db()
    assert (row.status, row.reason) == (OutboundStatus.SKIPPED, OutboundReason.TEMPLATE_GONE)


def test_queries_per_batch_do_not_grow_with_the_batch(marketing, django_assert_max_num_queries):
    contacts = [consented(marketing, f"c{i}@example.com", f"C{i}") for i in range(60)]
    for c in contacts[:10]:
        queue_newsletter(c, marketing)
    with django_assert_max_num_queries(12) as small:
        assert sending.send_batch()["sent"] == 10
    for c in contacts[10:]:
        queue_newsletter(c, marketing)
    with django_assert_max_num_queries(12) as large:
        assert sending.send_batch()["sent"] == 50
    assert len(large.captured_queries) == len(small.captured_queries)
    assert len(mail.outbox) == 60
