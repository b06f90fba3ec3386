"""Demo sends (load_demo): the monthly newsletter queued to every demo contact.

Ana and Jean confirmed their marketing consent; Maria never gave it, so the
outbox shows her message skipped with that reason. The demo's worker writes
the others, headers included, to example_site/sent_mail/. Idempotent: the
idempotency keys make a second run queue nothing.
"""

from __future__ import annotations

from django.utils import timezone

from wagtail_journey.emails.sending import queue_template
from wagtail_journey.models import ConsentPurpose, ConsentRecord, Contact, EmailTemplate
from wagtail_journey.privacy.consent import record_consent

CONSENTED = ("ana.silva@example.com", "jean.dupont@example.org")


def queue_demo_newsletter() -> int:
    """Queue the newsletter once per demo contact; returns how many were queued now."""
    template = EmailTemplate.objects.filter(name="Monthly newsletter", live=True).first()
    marketing = ConsentPurpose.objects.filter(key="marketing").first()
    if template is None or marketing is None:
        return 0
    queued = 0
    for email in (*CONSENTED, "maria@example.net"):
        contact = Contact.objects.filter(email=email).first()
        if contact is None:
            continue
        if email in CONSENTED and not contact.consents.filter(purpose=marketing).exists():
            record = record_consent(contact, marketing, "granted", method="import")
            ConsentRecord.objects.filter(pk=record.pk).update(confirmed_at=timezone.now())
        _, created = queue_template(
            template, contact, idempotency_key=f"demo-newsletter:{contact.pk}"
        )
        queued += created
    return queued


AB_BROADCAST = "Monthly newsletter: subject test"
AB_SUBJECTS = (
    "The Journey monthly: what is new",
    '{{ first_name|default:"Hello" }}, three stories for you',
)


def start_demo_ab_broadcast():
    """The newsletter broadcast to the demo's subscribers with an A/B subject test.

    Half the audience (at least one per variant) gets subject A or B at once;
    the rest gets the winner an hour later (the demo's worker picks it), or
    when an editor picks it on the broadcast's page. Idempotent: started once.
    """
    from wagtail_journey.emails import broadcasts
    from wagtail_journey.models import Broadcast, BroadcastVariant, Segment, SegmentMembership

    template = EmailTemplate.objects.filter(name="Monthly newsletter", live=True).first()
    if template is None:
        return None
    segment, _ = Segment.objects.get_or_create(
        name="Newsletter subscribers", defaults={"kind": Segment.Kind.STATIC}
    )
    for email in (*CONSENTED, "maria@example.net"):
        contact = Contact.objects.filter(email=email).first()
        if contact is not None:
            SegmentMembership.objects.get_or_create(
                segment=segment, contact=contact, defaults={"entered_at": timezone.now()}
            )
    broadcast, created = Broadcast.objects.get_or_create(
        name=AB_BROADCAST,
        defaults={
            "template": template,
            "segment": segment,
            "ab_test_share": 50,
            "ab_wait_minutes": 60,
        },
    )
    if created:
        for i, subject in enumerate(AB_SUBJECTS):
            BroadcastVariant.objects.create(broadcast=broadcast, subject=subject, sort_order=i)
    if broadcast.started_at is None:
        broadcasts.start(broadcast)
    return broadcast
