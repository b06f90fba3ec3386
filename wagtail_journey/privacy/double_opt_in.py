"""Double opt-in: a signed, expiring link confirms a granted consent.

The confirmation email is transactional and goes through the email pipeline
(emails/sending.py) like every other message: one OutboundEmail row
("double_opt_in", idempotency key ``doi:<record id>``) queued in the
submission's transaction, sent after commit by a worker, never to a
suppressed address, visible in the admin's outbox. Confirmation needs a click
on a button (a POST), so mail scanners that follow links do not confirm on the
visitor's behalf.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from wagtail_journey.conf import journey_settings
from wagtail_journey.models import ConsentRecord

SALT = "wagtail_journey.double_opt_in"


class InvalidToken(Exception):
    """The link is forged, damaged or expired (the visitor is told nothing more)."""


def make_token(record: ConsentRecord) -> str:
    return signing.dumps({"r": record.pk, "c": record.contact_id}, salt=SALT, compress=True)


def read_token(token: str) -> ConsentRecord:
    max_age = journey_settings.DOUBLE_OPT_IN_MAX_AGE_DAYS * 86400
    try:
        data = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.BadSignature:  # includes SignatureExpired
        raise InvalidToken from None
    record = (
        ConsentRecord.objects.select_related("contact", "purpose")
        .filter(pk=data.get("r"), contact_id=data.get("c"), double_opt_in=True)
        .first()
    )
    if record is None:
        raise InvalidToken
    return record


def confirm(token: str, *, visitor=None) -> tuple[ConsentRecord, bool]:
    """Confirm the record behind ``token``; returns (record, newly_confirmed).

    Replaying a used link confirms nothing twice and records no second touchpoint.
    """
    from wagtail_journey.events import record as record_touchpoint

    record = read_token(token)
    with transaction.atomic():
        updated = ConsentRecord.objects.filter(pk=record.pk, confirmed_at__isnull=True).update(
            confirmed_at=timezone.now()
        )
        record.refresh_from_db()
        if updated:
            record_touchpoint(
                "consent_confirmed",
                contact=record.contact,
                visitor=visitor,
                properties={"purpose": record.purpose.key, "consent_record": record.pk},
            )
    return record, bool(updated)


def schedule_confirmation(record: ConsentRecord, base_url: str = "") -> None:
    """Queue the confirmation email; it is sent after the caller's transaction commits.

    ``base_url`` is ignored: the link is built from the site's configured root
    URL (emails.links), never from the request's Host header.
    """
    queue_confirmation(record, translation.get_language() or settings.LANGUAGE_CODE)


def queue_confirmation(record: ConsentRecord, language: str):
    """The confirmation's OutboundEmail (created once per record), or None when the
    record needs no email (already confirmed, or its email was already queued)."""
    from wagtail_journey.emails.sending import queue

    claimed = ConsentRecord.objects.filter(
        pk=record.pk, confirmation_sent_at__isnull=True, confirmed_at__isnull=True
    ).update(confirmation_sent_at=timezone.now())
    if not claimed:
        return None
    row, _ = queue(
        idempotency_key=f"doi:{record.pk}",
        contact=record.contact,
        message=MESSAGE,
        context={"consent_record": record.pk},
        language=language,
    )
    return row


def send_confirmation(record_id: int, base_url: str = "", language: str = "") -> bool:
    """Queue and send the confirmation now (outside a transaction); True if this call sent it.

    Running it again sends nothing: the record and the OutboundEmail are claimed once.
    """
    from wagtail_journey.emails.sending import send_batch
    from wagtail_journey.models.outbound import OutboundStatus

    record = ConsentRecord.objects.select_related("contact").filter(pk=record_id).first()
    if record is None:
        return False
    row = queue_confirmation(record, language or settings.LANGUAGE_CODE)
    if row is None:
        return False
    send_batch(ids=[row.pk])
    row.refresh_from_db()
    return row.status == OutboundStatus.SENT


#: The key of the confirmation in emails.messages' registry.
MESSAGE = "double_opt_in"


def build_confirmation(outbound, links):
    """Builder of the confirmation email (emails.messages), rendered at send time."""
    from wagtail_journey.emails.links import absolute_url
    from wagtail_journey.emails.messages import BuiltMessage, TemplateGone

    record = (
        ConsentRecord.objects.select_related("contact", "purpose")
        .filter(pk=outbound.context.get("consent_record"), contact_id=outbound.contact_id)
        .first()
    )
    if record is None:
        raise TemplateGone("consent record")
    url = absolute_url(reverse("wagtail_journey:confirm", args=[make_token(record)]))
    context = {
        "record": record,
        "contact": record.contact,
        "url": url,
        "days": journey_settings.DOUBLE_OPT_IN_MAX_AGE_DAYS,
    }
    return BuiltMessage(
        subject=_("Please confirm your subscription"),
        text=render_to_string("wagtail_journey/email/confirm_consent.txt", context),
        html=render_to_string("wagtail_journey/email/confirm_consent.html", context),
        from_email=journey_settings.FROM_EMAIL or settings.DEFAULT_FROM_EMAIL,
    )
