"""Double opt-in: a signed, expiring link confirms a granted consent.

The confirmation email is transactional; it goes through the configured
anymail backend from a django-q2 task. Confirmation needs a click on a button
(a POST), so mail scanners that follow links do not confirm on the visitor's
behalf.

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
from django.core.mail import EmailMultiAlternatives
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
    """After commit, queue the confirmation email in a django-q2 task.

    Returns False, and marks the record with the reason, when no email is due:
    the contact's consent for the purpose is already confirmed at this
    version or later ("already"), or the address had DOUBLE_OPT_IN_THROTTLE
    confirmation emails in the window ("throttled"). The contact row is
    locked while counting, so concurrent submissions cannot all slip under
    the limit.

    The database is what says an email is due (``confirmation_sent_at`` is
    empty): if the broker cannot be reached (Redis down), the visitor's
    submission still succeeds and :func:`send_unsent_confirmations`, a
    schedule, sends it later.
    """
    from django_q.tasks import async_task

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
    language = translation.get_language() or settings.LANGUAGE_CODE
    transaction.on_commit(
        lambda: async_task(
            "wagtail_journey.privacy.double_opt_in.send_confirmation",
            record.pk,
            language,
            task_name=f"journey-doi-{record.pk}",
            group="wagtail_journey.double_opt_in",
        ),
        robust=True,  # a broker error is logged, never the visitor's 500
    )
    return True


#: Seconds a confirmation is left to its queued task before the sweep sends it.
SWEEP_GRACE_SECONDS = 120
SWEEP_BATCH = 200
SWEEP_SCHEDULE = "journey-confirmation-sweep"
SWEEP_TASK = "wagtail_journey.privacy.double_opt_in.send_unsent_confirmations"


def send_unsent_confirmations() -> int:
    """Schedule (every minute): send confirmations whose queued task never ran.

    A confirmation is due while its record is unconfirmed, unsent and younger
    than its link's lifetime; ``send_confirmation`` claims each row, so a task
    and the sweep never send one twice. Returns how many were sent.
    """
    now = timezone.now()
    due = ConsentRecord.objects.filter(
        double_opt_in=True,
        action=ConsentRecord.Action.GRANTED,
        confirmed_at__isnull=True,
        confirmation_sent_at__isnull=True,
        confirmation_skipped="",
        created_at__lte=now - timedelta(seconds=SWEEP_GRACE_SECONDS),
        created_at__gte=now - timedelta(days=journey_settings.DOUBLE_OPT_IN_MAX_AGE_DAYS),
    ).order_by("created_at")
    ids = list(due.values_list("pk", flat=True)[:SWEEP_BATCH])
    if not ids:
        return 0
    return sum(send_confirmation(pk, settings.LANGUAGE_CODE) for pk in ids)


def send_confirmation(record_id: int, language: str) -> bool:
    """Task: send the confirmation email once (a retried task does not resend).

    The link is built from the site's configured root URL (:mod:`wagtail_journey.links`),
    never from the Host header of the request that submitted the form.
    """
    claimed = ConsentRecord.objects.filter(
        pk=record_id,
        confirmation_sent_at__isnull=True,
        confirmed_at__isnull=True,
        confirmation_skipped="",
    ).update(confirmation_sent_at=timezone.now())
    if not claimed:
        return False
    record = ConsentRecord.objects.select_related("contact", "purpose").get(pk=record_id)
    url = public_url(reverse("wagtail_journey:confirm", args=[make_token(record)]))
    try:
        with translation.override(language):
            # No contact fields: whoever filled the form may not own the address.
            context = {
                "record": record,
                "url": url,
                "days": journey_settings.DOUBLE_OPT_IN_MAX_AGE_DAYS,
            }
            subject = _("Please confirm your subscription")
            text = render_to_string("wagtail_journey/email/confirm_consent.txt", context)
            html = render_to_string("wagtail_journey/email/confirm_consent.html", context)
        message = EmailMultiAlternatives(
            subject=subject,
            body=text,
            from_email=journey_settings.FROM_EMAIL or settings.DEFAULT_FROM_EMAIL,
            to=[record.contact.email],
        )
        message.attach_alternative(html, "text/html")
        message.tags = ["double-opt-in"]
        message.metadata = {"consent_record": str(record.pk)}
        message.send()
    except Exception:
        # Release the claim so django-q2's retry can send it.
        ConsentRecord.objects.filter(pk=record_id).update(confirmation_sent_at=None)
        raise
    return True
