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
