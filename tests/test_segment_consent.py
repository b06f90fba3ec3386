"""The consent segment rule: the latest answer per purpose counts, as for sending."""

import pytest
from django.utils import timezone

from tests.forms_helpers import make_purposes
from tests.segment_helpers import group, make_segment, r
from wagtail_journey.models import ConsentRecord, Contact
from wagtail_journey.privacy.consent import record_consent
from wagtail_journey.segment_rules import RuleError
from wagtail_journey.segments import rebuild_segment, segment_queryset

pytestmark = pytest.mark.django_db


def emails(qs):
    return sorted(qs.values_list("email", flat=True))


def test_consented_contacts_only_after_double_opt_in_and_until_withdrawn():
    _, marketing = make_purposes()
    ana = Contact.objects.create(email="ana@example.com")
    bob = Contact.objects.create(email="bob@example.com")
    eve = Contact.objects.create(email="eve@example.com")
    confirmed = record_consent(ana, marketing, "granted", method="form")
    ConsentRecord.objects.filter(pk=confirmed.pk).update(confirmed_at=timezone.now())
    record_consent(bob, marketing, "granted", method="form")  # never confirmed
    record_consent(eve, marketing, "granted", method="form")
    ConsentRecord.objects.filter(contact=eve).update(confirmed_at=timezone.now())
    record_consent(eve, marketing, "withdrawn", method="preference_centre")

    granted = make_segment("Marketing OK", group(r("consent", purpose=marketing.pk)))
    missing = make_segment(
        "No marketing", group(r("consent", purpose=marketing.pk, state="missing"))
    )
    assert emails(segment_queryset(granted)) == ["ana@example.com"]
    assert emails(segment_queryset(missing)) == ["bob@example.com", "eve@example.com"]
    rebuild_segment(granted)
    assert list(granted.memberships.values_list("contact__email", flat=True)) == ["ana@example.com"]


def test_a_deleted_purpose_fails_clearly():
    from wagtail_journey.models import ConsentPurpose

    purpose = ConsentPurpose.objects.create(name="Gone", key="gone", text="<p>x</p>")
    segment = make_segment("Broken", group(r("consent", purpose=purpose.pk)))
    purpose.versions.all().delete()
    purpose.delete()
    segment.refresh_from_db()
    with pytest.raises(RuleError):
        segment_queryset(segment)
