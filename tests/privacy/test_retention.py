"""Retention periods: a dry run says what would go; the purge takes exactly that."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from wagtail_journey.models import Contact, FormSubmission, OutboundEmail
from wagtail_journey.privacy.consent import record_consent
from wagtail_journey.privacy.retention import purge
from wagtail_journey.schedules import wanted

pytestmark = pytest.mark.django_db

LONG_AGO = timezone.now() - timedelta(days=800)


@pytest.fixture
def periods(settings):
    settings.WAGTAIL_JOURNEY = {
        **settings.WAGTAIL_JOURNEY,
        "INACTIVE_CONTACT_RETENTION_DAYS": 730,
        "SUBMISSION_RETENTION_DAYS": 365,
        "OUTBOUND_EMAIL_RETENTION_DAYS": 365,
        "AUDIT_RETENTION_DAYS": 365,
    }


@pytest.fixture
def people(db, home_page):
    from wagtail_journey.models import ConsentPurpose

    idle = Contact.objects.create(email="idle@example.org", first_name="Idle")
    active = Contact.objects.create(email="active@example.org")
    consenting = Contact.objects.create(email="yes@example.org")
    Contact.objects.filter(pk__in=[idle.pk, active.pk, consenting.pk]).update(created_at=LONG_AGO)
    Contact.objects.filter(pk=idle.pk).update(last_activity_at=LONG_AGO)
    Contact.objects.filter(pk=active.pk).update(last_activity_at=timezone.now())
    purpose = ConsentPurpose.objects.create(name="News", key="news", text="<p>News</p>")
    record_consent(consenting, purpose, "granted", method="admin")
    old = FormSubmission.objects.create(
        page=home_page, form_key="f", contact=active, data={"msg": "hi"}, created_at=LONG_AGO
    )
    new = FormSubmission.objects.create(
        page=home_page, form_key="f", contact=active, data={"msg": "hi"}
    )
    OutboundEmail.objects.create(
        idempotency_key="old", contact=active, status=OutboundEmail.Status.SENT,
        created_at=LONG_AGO,
    )  # fmt: skip
    OutboundEmail.objects.create(idempotency_key="new", contact=active)
    return {"idle": idle, "active": active, "consenting": consenting, "old": old, "new": new}


def test_dry_run_counts_and_changes_nothing(periods, people):
    counts = purge(dry_run=True)
    assert counts == {
        "inactive_contacts": 1,
        "submissions": 1,
        "outbound_emails": 1,
        "audit_entries": 0,
    }
    assert not Contact.objects.filter(erased_at__isnull=False).exists()
    assert OutboundEmail.objects.count() == 2


def test_purge_takes_what_the_dry_run_said(periods, people):
    counts = purge()
    assert counts["inactive_contacts"] == 1
    erased = Contact.objects.get(pk=people["idle"].pk)
    assert erased.erased_at is not None and erased.first_name == ""
    for key in ("active", "consenting"):
        assert Contact.objects.get(pk=people[key].pk).erased_at is None
    people["old"].refresh_from_db()
    people["new"].refresh_from_db()
    assert people["old"].data == {} and people["new"].data == {"msg": "hi"}
    assert list(OutboundEmail.objects.values_list("idempotency_key", flat=True)) == ["new"]
    assert purge(dry_run=True)["inactive_contacts"] == 0


def test_nothing_is_purged_without_periods(people):
    assert purge() == {"export_files": 0}


def test_command_and_schedule(periods, people, capsys):
    call_command("journey_retention", dry_run=True)
    assert "inactive_contacts: 1 would go" in capsys.readouterr().out
    schedules = wanted()
    assert schedules["journey-privacy-retention"]["schedule_type"] == "D"
    assert schedules["journey-privacy-exports"]["func"].endswith("sweep_exports")
