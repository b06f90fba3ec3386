"""Bytes per OutboundEmail row, indexes included, on PostgreSQL (issue 11: <= 1 KB)."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.utils import timezone

from tests.emails.helpers import make_template
from wagtail_journey.models import Contact, OutboundEmail
from wagtail_journey.models.outbound import OutboundStatus

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

ROWS = 10_000


def test_an_outbound_row_with_its_indexes_stays_under_one_kilobyte():
    template = make_template()
    contacts = Contact.objects.bulk_create(
        Contact(email=f"person{i}@example.com", first_name="Ana", last_name="Example")
        for i in range(ROWS)
    )
    now = timezone.now()
    OutboundEmail.objects.bulk_create(
        (
            OutboundEmail(
                status=OutboundStatus.DELIVERED,
                contact=c,
                purpose=template.purpose,
                template=template,
                revision_id=template.live_revision_id,
                context={"first_name": "Ana", "full_name": "Ana Example", "email": c.email},
                language="en",
                idempotency_key=f"broadcast:{template.pk}:{c.pk}",
                esp_message_id=str(uuid.uuid4()),
                attempts=1,
                created_at=now,
                due_at=now,
                claimed_at=now,
                sent_at=now,
                event_at=now,
            )
            for c in contacts
        ),
        batch_size=2000,
    )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {OutboundEmail._meta.db_table}")
        cursor.execute(
            "SELECT pg_total_relation_size(%s), pg_relation_size(%s)",
            [OutboundEmail._meta.db_table, OutboundEmail._meta.db_table],
        )
        total, heap = cursor.fetchone()
    per_row = total / ROWS
    print(f"OutboundEmail: {per_row:.0f} bytes/row with indexes ({heap / ROWS:.0f} heap)")
    assert per_row <= 1024
