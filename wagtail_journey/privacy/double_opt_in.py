"""Double opt-in: a signed, expiring link confirms a granted consent.

The confirmation email is transactional and goes through the email pipeline
(emails/sending.py) like every other message: one OutboundEmail row
("double_opt_in", idempotency key ``doi:<record id>``) queued in the
submission's transaction, sent after commit by a worker, never to a
suppressed address, visible in the admin's outbox. Confirmation needs a click
on a button (a POST), so mail scanners that follow links do not confirm on the
visitor's behalf.

Anyone can type someone else's address into a form, so the email carries no
text a visitor entered (not even the name), goes out at most
DOUBLE_OPT_IN_THROTTLE times per window to one address, and is not sent for a
consent the address has already confirmed. The first confirmation of a link
proves the clicking browser controls the address (identity.prove_control).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from wagtail_journey.conf import journey_settings
from wagtail_journey.identity import prove_control
from wagtail_journey.links import public_url
from wagtail_journey.models import ConsentRecord, Contact

SALT = "wagtail_journey.double_opt_in"


class InvalidToken(Exception):
    """The link is forged, damaged or expired (the visitor is told nothing more)."""


class UsedToken(InvalidToken):
    """The link was valid and has been used: a confirmation link works once."""


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

    The first confirmation proves that ``visitor`` (the browser that clicked)
    controls the address: it is joined to the contact with its history.
    A link confirms once: replaying it raises :class:`UsedToken` (nothing is
    recorded twice, and no other browser is linked: a forwarded email proves
    nothing).
    """
    from wagtail_journey.events import record as record_touchpoint

    record = read_token(token)
    with transaction.atomic():
        updated = ConsentRecord.objects.filter(pk=record.pk, confirmed_at__isnull=True).update(
            confirmed_at=timezone.now()
        )
        if not updated:
            raise UsedToken
        record.refresh_from_db()
        prove_control(visitor, record.contact, "double_opt_in")
        record_touchpoint(
            "consent_confirmed",
            contact=record.contact,
            visitor=visitor,
            properties={"purpose": record.purpose.key, "consent_record": record.pk},
        )
    return record, True


def schedule_confirmation(record: ConsentRecord) -> bool:
    """Queue the confirmation email; it is sent after the caller's transaction commits.

    The link is built when the message is sent, from the site's configured root
    URL (:mod:`wagtail_journey.links`), never from the Host header of the
    request that submitted the form.

    Returns False, and marks the record with the reason, when no email is due:
    the contact's consent for the purpose is already confirmed at this
    version or later ("already"), or the address had DOUBLE_OPT_IN_THROTTLE
    confirmation emails in the window ("throttled"). The contact row is
    locked while counting, so concurrent submissions cannot all slip under
    the limit.

    The database is what says an email is due (its OutboundEmail row is
    pending): if the broker cannot be reached (Redis down), the visitor's
    submission still succeeds and the email sweep (``journey-email-sweep``,
    every minute) sends it later.
    """
    from wagtail_journey.privacy.consent import deciding_record

    limit, window = journey_settings.DOUBLE_OPT_IN_THROTTLE
    with transaction.atomic():
        # NO KEY: serialises the count without blocking rows that reference
        # the contact (a FOR UPDATE here could deadlock with a touchpoint insert).
        no_key = connection.features.has_select_for_no_key_update
        locked = Contact.objects.select_for_update(no_key=no_key).filter(pk=record.contact_id)
        list(locked.values_list("pk", flat=True))
        current = deciding_record(record.contact, record.purpose.key)
        skipped = ""
        if (
            current is not None
            and current.action == ConsentRecord.Action.GRANTED
            and current.version.number >= record.version.number
        ):
            skipped = "already"
        else:
            since = timezone.now() - timedelta(seconds=window)
            recent = (
                ConsentRecord.objects.filter(
                    contact_id=record.contact_id,
                    double_opt_in=True,
                    confirmation_skipped="",
                    created_at__gte=since,
                )
                .exclude(pk=record.pk)
                .count()
            )
            if recent >= limit:
                skipped = "throttled"
        if skipped:
            ConsentRecord.objects.filter(pk=record.pk).update(confirmation_skipped=skipped)
            record.confirmation_skipped = skipped
            return False
    queue_confirmation(record, translation.get_language() or settings.LANGUAGE_CODE)
    return True


def queue_confirmation(record: ConsentRecord, language: str):
    """The confirmation's OutboundEmail (created once per record), or None when the
    record needs no email (confirmed, skipped, or its email was already queued)."""
    from wagtail_journey.emails.sending import queue

    claimed = ConsentRecord.objects.filter(
        pk=record.pk,
        confirmation_sent_at__isnull=True,
        confirmed_at__isnull=True,
        confirmation_skipped="",
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


def send_confirmation(record_id: int, language: str = "") -> bool:
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
    from wagtail_journey.emails.messages import BuiltMessage, TemplateGone

    record = (
        ConsentRecord.objects.select_related("contact", "purpose")
        .filter(pk=outbound.context.get("consent_record"), contact_id=outbound.contact_id)
        .first()
    )
    if record is None:
        raise TemplateGone("consent record")
    url = public_url(reverse("wagtail_journey:confirm", args=[make_token(record)]))
    # No contact fields: whoever filled the form may not own the address.
    context = {
        "record": record,
        "url": url,
        "days": journey_settings.DOUBLE_OPT_IN_MAX_AGE_DAYS,
    }
    return BuiltMessage(
        subject=_("Please confirm your subscription"),
        text=render_to_string("wagtail_journey/email/confirm_consent.txt", context),
        html=render_to_string("wagtail_journey/email/confirm_consent.html", context),
        from_email=journey_settings.FROM_EMAIL or settings.DEFAULT_FROM_EMAIL,
    )
