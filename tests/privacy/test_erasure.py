"""Erasure reaches every table: a scan of the whole database finds nothing of the person.

The subject (tests/privacy/subject.py) browsed anonymously, posted a form,
confirmed by email, received and clicked a marketing email, was scored,
segmented, tagged and audited; after erase_contact() no text, varchar or JSON
column of any table (the package's or not) holds their address, name, phone
or IP, full or truncated.
"""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.privacy.subject import EMAIL, FIRST, NEEDLES, build_subject
from wagtail_journey.emails.suppression import is_suppressed
from wagtail_journey.models import (
    Contact,
    Enrollment,
    ErasureReceipt,
    FormSubmission,
    OutboundEmail,
    ScoreChange,
    SegmentMembership,
    Touchpoint,
    Visitor,
)
from wagtail_journey.privacy.erasure import erase_contact, erasure_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def subject(client, home_page, django_capture_on_commit_callbacks):
    return build_subject(client, home_page, django_capture_on_commit_callbacks)


def scan(needles=NEEDLES) -> list[tuple[str, str, str]]:
    """(table, column, needle) for every needle found in any column of any table."""
    qn = connection.ops.quote_name
    lowered = [n.lower() for n in needles]
    hits = []
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        for table in tables:
            columns = connection.introspection.get_table_description(cursor, table)
            for column in columns:
                text = f"LOWER(CAST({qn(column.name)} AS TEXT))"
                where = " OR ".join(f"{text} LIKE %s" for _ in lowered)
                cursor.execute(
                    f"SELECT {text} FROM {qn(table)} WHERE {where}",  # noqa: S608
                    [f"%{n}%" for n in lowered],
                )
                for (value,) in cursor.fetchall():
                    hits.extend((table, column.name, n) for n in lowered if n in (value or ""))
    return hits


def test_after_erasure_no_column_of_any_table_holds_the_person(subject):
    before = scan()
    found = {needle for _t, _c, needle in before}
    # The scan sees the data where the package stored it (the proof is not vacuous).
    assert found == {n.lower() for n in NEEDLES}, found
    tables = {table for table, _c, _n in before}
    assert {"wagtail_journey_contact", "wagtail_journey_consentrecord"} <= tables
    assert "wagtail_journey_formsubmission" in tables
    assert "wagtailcore_modellogentry" in tables

    plan = erasure_plan(subject.contact)
    assert plan["wagtail_journey_touchpoint"] >= 5
    assert plan["wagtail_journey_visitor"] == 1
    assert plan["django_q_task"] >= 1
    assert plan["wagtail_journey_enrollment"] == 1
    assert plan["wagtail_journey_steprun"] >= 1

    receipt = erase_contact(subject.contact, by="test")

    assert scan() == []
    # What stays is anonymous: counts and an empty shell.
    contact = Contact.objects.get(pk=subject.contact.pk)
    assert contact.erased_at is not None
    assert contact.email == f"erased-{contact.pk}@erased.invalid"
    assert contact.score == 0 and not contact.tags.exists()
    assert Touchpoint.objects.filter(contact=contact, kind="page_view").count() >= 3
    assert not Touchpoint.objects.filter(contact=contact, properties__isnull=False).exists()
    assert FormSubmission.objects.get(contact=contact).data == {}
    assert not ScoreChange.objects.filter(contact=contact).exists()
    assert not SegmentMembership.objects.filter(contact=contact).exists()
    assert not Visitor.objects.filter(pk=subject.visitor.pk).exists()
    assert not Enrollment.objects.filter(contact=contact).exists()  # left every flow
    assert OutboundEmail.objects.get(pk=subject.outbound.pk).context == {}
    # The keyed HMAC keeps the address off every mailing, even re-imported.
    assert is_suppressed(EMAIL)
    # The receipt holds counts, no personal data.
    stored = ErasureReceipt.objects.get(pk=receipt.pk)
    assert stored.contact_ref == contact.pk
    assert stored.counts["wagtail_journey_touchpoint"] == plan["wagtail_journey_touchpoint"]
    assert FIRST.lower() not in repr(stored.counts).lower()


def test_erasing_twice_changes_nothing_and_returns_the_first_receipt(subject):
    first = erase_contact(subject.contact, by="test")
    second = erase_contact(subject.contact, by="test")
    assert second.pk == first.pk
    assert ErasureReceipt.objects.count() == 1


def test_the_subject_erased_signal_and_queued_mail(subject, django_capture_on_commit_callbacks):
    from wagtail_journey.emails.sending import queue_template
    from wagtail_journey.models import EmailTemplate
    from wagtail_journey.privacy.erasure import subject_erased

    template = EmailTemplate.objects.get()
    pending, _ = queue_template(template, subject.contact, idempotency_key="later")
    OutboundEmail.objects.filter(pk=pending.pk).update(status=OutboundEmail.Status.PENDING)
    seen = []

    def receiver(sender, contact_ids, receipts, **kwargs):
        seen.append(contact_ids)

    subject_erased.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            erase_contact(subject.contact, by="test")
    finally:
        subject_erased.disconnect(receiver)
    assert seen == [[subject.contact.pk]]
    pending.refresh_from_db()
    assert pending.status == OutboundEmail.Status.SKIPPED
    assert pending.reason == OutboundEmail.Reason.ERASED


def insert_touchpoints(contact_id: int, count: int) -> None:
    """``count`` touchpoints with properties and UTM, in one INSERT ... SELECT."""
    from django.utils import timezone

    table = connection.ops.quote_name(Touchpoint._meta.db_table)
    json_value = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %s)
            INSERT INTO {table} (kind, occurred_at, contact_id, session, device,
                                 audience_only, journey_stage, utm, properties)
            SELECT 'page_view', %s, %s, i, 1, %s, '', {json_value}, {json_value} FROM n
            """,  # noqa: S608
            [
                count,
                timezone.now(),
                contact_id,
                False,
                '{"utm_source": "mail"}',
                '{"path": "/pricing/", "q": "bulk"}',
            ],
        )


def _erase_counting(contact) -> tuple[int, float]:
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        erase_contact(contact, by="test")
        elapsed = time.perf_counter() - started
    return len(queries.captured_queries), elapsed


#: Statements an erasure may take, whatever the size of the history.
MAX_STATEMENTS = 60


@pytest.mark.scale
def test_erasing_100000_touchpoints_takes_a_bounded_number_of_statements(db):
    small = Contact.objects.create(email="small@example.org", first_name="Smallwood")
    insert_touchpoints(small.pk, 10)
    big = Contact.objects.create(email="big@example.org", first_name="Bigglesworth")
    insert_touchpoints(big.pk, 100_000)

    small_queries, _ = _erase_counting(small)
    big_queries, elapsed = _erase_counting(big)

    assert big_queries == small_queries <= MAX_STATEMENTS
    assert not Touchpoint.objects.filter(contact=big, properties__isnull=False).exists()
    assert Touchpoint.objects.filter(contact=big).count() == 100_000
    print(f"\nerasure of 100,000 touchpoints: {big_queries} statements, {elapsed:.2f} s")


@pytest.mark.postgres
def test_erasure_forgets_the_person_in_the_tracking_dead_letters(settings, db):
    """Needs Redis (make test-postgres): the buffer's dead letters lose the erased browsers."""
    import json

    from wagtail_journey.privacy.erasure import forget_buffered
    from wagtail_journey.tracking import buffer

    settings.WAGTAIL_JOURNEY = {**settings.WAGTAIL_JOURNEY, "TRACKING_BUFFER": "default"}
    contact = Contact.objects.create(email="dead@example.org")
    visitor = Visitor.objects.create(contact=contact)
    client, key = buffer._client(), buffer._key("dead")
    client.delete(key)
    try:
        client.rpush(
            key,
            json.dumps({"k": "page_view", "v": visitor.pk}),
            json.dumps({"k": "page_view", "v": visitor.pk + 1000}),
        )
        assert forget_buffered([visitor.pk], [contact.pk]) == 1
        assert buffer.dead_letters() == 1
    finally:
        client.delete(key)


def test_late_events_of_an_erased_person_join_no_one(db):
    from wagtail_journey.events import record

    contact = Contact.objects.create(email="late@example.org", first_name="Latimer")
    erase_contact(contact, by="test")
    browser = Visitor.objects.create()
    touchpoint = record("email_clicked", contact=contact, visitor=browser, identify=True)
    assert touchpoint.contact_id is None and touchpoint.visitor_id is None
    browser.refresh_from_db()
    assert browser.contact_id is None
