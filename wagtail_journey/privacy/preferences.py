"""The preference centre's logic: its links, its session, and what a visitor may change there.

How a visitor gets in (docs/privacy.md, "Visitors' rights pages"):

- every email the package sends to a contact carries a "Manage your
  preferences" link in its footer (:func:`email_link`, kind ``prefs_mail``,
  valid PREFERENCE_EMAIL_LINK_MAX_AGE_DAYS, usable again like the
  unsubscribe link beside it);
- anyone can ask for a link by typing an address (:func:`request_link`); the
  answer and the work done on the request are the same whether the address is
  known or not: one lookup and one worker task, which sends the email only for
  a known address. That link (kind ``prefs``) works once, for
  PREFERENCE_LINK_MAX_AGE_HOURS (24).

Opening a link takes a click on a button (a POST), because mail scanners fetch
every link in a message: a scanner neither burns a single-use link nor gets a
session. The POST exchanges the link for a signed, HttpOnly cookie scoped to
the preference pages (:data:`SESSION_COOKIE`, PREFERENCE_SESSION_SECONDS); the
pages then need no token in their URLs and every form carries Django's CSRF
token. A link sent to an address proves control of it, which is why it opens
the centre at all; a form typed by anyone never does.

Every change is the contact's own answer: consents go through
:func:`~wagtail_journey.privacy.consent.record_consent` (``preference_centre``),
corrections and objections are recorded as touchpoints (what changed, never
the values, so the log holds no second copy of the personal data).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tasks import task

from wagtail_journey.conf import journey_settings
from wagtail_journey.links import public_url
from wagtail_journey.models import ConsentPurpose, ConsentRecord, Contact
from wagtail_journey.privacy import tokens

#: Token kinds (each signs with its own salt: a link made for one is refused by the others).
PREFS = "prefs"
PREFS_MAIL = "prefs_mail"
ERASE = "erase"
#: Code-built messages (emails.messages registry).
LINK_MESSAGE = "preference_link"
ERASE_MESSAGE = "erasure_confirm"

SESSION_COOKIE = "wj_pref"
SESSION_SALT = "wagtail_journey.privacy.session"


# --- links -------------------------------------------------------------------------------


def email_link(outbound_id: int, contact_id: int) -> str:
    """The footer link of one message to ``contact_id`` (reusable until it expires)."""
    token = tokens.make(PREFS_MAIL, contact_id, o=outbound_id)
    return public_url(reverse("wagtail_journey:preferences_open", args=[token]))


def footer_link(outbound) -> str:
    """The "Manage your preferences" link of a message: the recipient's own, or the
    request-a-link page for a message to a bare address (an editor's test send)."""
    if outbound.contact_id is not None:
        return email_link(outbound.pk, outbound.contact_id)
    return public_url(reverse("wagtail_journey:preferences"))


def requested_link(contact_id: int) -> str:
    """A single-use link for a visitor who asked for one by address."""
    token = tokens.make(PREFS, contact_id)
    return public_url(reverse("wagtail_journey:preferences_open", args=[token]))


def erasure_link(contact_id: int) -> str:
    token = tokens.make(ERASE, contact_id)
    return public_url(reverse("wagtail_journey:preferences_erase", args=[token]))


@dataclass(frozen=True)
class OpenLink:
    """A valid preference link: whose, and whether opening it burns it."""

    contact: Contact
    kind: str
    data: dict


def read_link(token: str) -> OpenLink:
    """The contact behind a preference link; tokens.InvalidToken for any bad link."""
    hours = timedelta(hours=journey_settings.PREFERENCE_LINK_MAX_AGE_HOURS)
    days = timedelta(days=journey_settings.PREFERENCE_EMAIL_LINK_MAX_AGE_DAYS)
    for kind, max_age in ((PREFS, hours), (PREFS_MAIL, days)):
        try:
            data = tokens.read(token, kind, max_age)
        except tokens.InvalidToken:
            continue
        if kind == PREFS and tokens.is_used(kind, data):
            break
        return OpenLink(tokens.contact_of(data), kind, data)
    raise tokens.InvalidToken


def open_link(token: str) -> Contact:
    """Use a preference link (the button's POST): a requested link is burnt here."""
    link = read_link(token)
    if link.kind == PREFS:
        tokens.use(PREFS, link.data)
    return link.contact


def read_erasure_link(token: str) -> tuple[Contact, dict]:
    data = tokens.read(token, ERASE, timedelta(hours=journey_settings.ERASURE_LINK_MAX_AGE_HOURS))
    if tokens.is_used(ERASE, data):
        raise tokens.InvalidToken
    return tokens.contact_of(data), data


# --- the session ---------------------------------------------------------------------------


def start_session(request: HttpRequest, response: HttpResponse, contact: Contact) -> None:
    response.set_signed_cookie(
        SESSION_COOKIE,
        str(contact.pk),
        salt=SESSION_SALT,
        max_age=journey_settings.PREFERENCE_SESSION_SECONDS,
        path=reverse("wagtail_journey:preferences"),
        secure=request.is_secure(),
        httponly=True,
        samesite="Lax",
    )


def end_session(response: HttpResponse) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path=reverse("wagtail_journey:preferences"), samesite="Lax"
    )


def session_contact(request: HttpRequest) -> Contact | None:
    """The contact whose preferences this browser may manage now, or None."""
    value = request.get_signed_cookie(
        SESSION_COOKIE,
        default=None,
        salt=SESSION_SALT,
        max_age=journey_settings.PREFERENCE_SESSION_SECONDS,
    )
    if not value or not value.isdigit():
        return None
    return Contact.objects.filter(pk=int(value), erased_at__isnull=True).first()


# --- asking for a link by address ----------------------------------------------------------


def request_link(address: str) -> None:
    """Email a single-use link to ``address`` if it belongs to a contact.

    The request does the same for every address (one indexed lookup, one
    task after commit) and stores nothing about an unknown one; the worker
    builds and sends the email. So neither the page nor its timing tells
    whether the address is known.
    """
    from wagtail_journey.identity import normalize_email

    contact_id = (
        Contact.objects.filter(email=normalize_email(address), erased_at__isnull=True)
        .values_list("pk", flat=True)
        .first()
    )
    language = translation.get_language() or settings.LANGUAGE_CODE
    args = (contact_id or 0, language)
    # robust: a broker that is down is logged, never the visitor's 500.
    transaction.on_commit(lambda: send_link.enqueue(*args), robust=True)


@task()
def send_link(contact_id: int, language: str) -> bool:
    """Task: queue the preference-link email (nothing for 0, an unknown address)."""
    from wagtail_journey.emails.sending import queue

    if not contact_id:
        return False
    contact = Contact.objects.filter(pk=contact_id, erased_at__isnull=True).first()
    if contact is None:
        return False
    queue(
        idempotency_key=f"prefs:{contact.pk}:{secrets.token_hex(8)}",
        contact=contact,
        message=LINK_MESSAGE,
        language=language,
    )
    return True


def request_erasure(contact: Contact) -> None:
    """Email the contact a single-use link that confirms their erasure request."""
    from wagtail_journey.emails.sending import queue

    queue(
        idempotency_key=f"erase:{contact.pk}:{secrets.token_hex(8)}",
        contact=contact,
        message=ERASE_MESSAGE,
        language=translation.get_language() or settings.LANGUAGE_CODE,
    )


def confirm_erasure(token: str) -> None:
    """Burn the erasure link and erase its contact, together (a failure burns nothing)."""
    from wagtail_journey.privacy.erasure import erase_contact

    contact, data = read_erasure_link(token)
    with transaction.atomic():
        tokens.use(ERASE, data)
        erase_contact(contact, by="preference_centre")


def _build(outbound, template: str, subject: str, url: str, hours: int):
    from wagtail_journey.emails.messages import BuiltMessage, TemplateGone

    if outbound.contact_id is None:
        raise TemplateGone("contact")
    context = {"url": url, "hours": hours}
    return BuiltMessage(
        subject=subject,
        text=render_to_string(f"wagtail_journey/email/{template}.txt", context),
        html=render_to_string(f"wagtail_journey/email/{template}.html", context),
        from_email=journey_settings.FROM_EMAIL or settings.DEFAULT_FROM_EMAIL,
    )


def build_link_message(outbound, links):
    """Builder of the preference-link email (its token is made at send time, never stored)."""
    return _build(
        outbound,
        "preference_link",
        _("Your link to manage your preferences"),
        requested_link(outbound.contact_id),
        journey_settings.PREFERENCE_LINK_MAX_AGE_HOURS,
    )


def build_erasure_message(outbound, links):
    """Builder of the erasure-confirmation email."""
    return _build(
        outbound,
        "erasure_confirm",
        _("Confirm the erasure of your data"),
        erasure_link(outbound.contact_id),
        journey_settings.ERASURE_LINK_MAX_AGE_HOURS,
    )


# --- what the centre shows -----------------------------------------------------------------


@dataclass
class PurposeState:
    """One purpose as the visitor sees it: current answer, and every answer they gave."""

    purpose: ConsentPurpose
    granted: bool = False
    pending: bool = False  # a grant waits for its double-opt-in confirmation
    history: list[ConsentRecord] = field(default_factory=list)


def consent_states(contact: Contact) -> list[PurposeState]:
    """Every purpose with the contact's state and history (two queries)."""
    states = {p.pk: PurposeState(p) for p in ConsentPurpose.objects.order_by("name")}
    records = (
        ConsentRecord.objects.filter(contact=contact)
        .select_related("version")
        .order_by("-created_at", "-id")
    )
    deciding: dict[int, ConsentRecord] = {}
    for rec in records:
        state = states.get(rec.purpose_id)
        if state is None:
            continue
        state.history.append(rec)
        effective_at = rec.confirmed_at or rec.created_at
        decides = rec.action == ConsentRecord.Action.WITHDRAWN or rec.is_effective
        if decides:
            best = deciding.get(rec.purpose_id)
            if best is None or effective_at > (best.confirmed_at or best.created_at):
                deciding[rec.purpose_id] = rec
    for pk, state in states.items():
        rec = deciding.get(pk)
        state.granted = bool(rec and rec.action == ConsentRecord.Action.GRANTED)
        latest = state.history[0] if state.history else None
        state.pending = bool(
            not state.granted
            and latest is not None
            and latest.action == ConsentRecord.Action.GRANTED
            and latest.double_opt_in
            and latest.confirmed_at is None
            and not latest.confirmation_skipped
        )
    return list(states.values())


# --- what the visitor may change -----------------------------------------------------------


def set_consent(contact: Contact, purpose: ConsentPurpose, grant: bool) -> str:
    """Grant or withdraw one purpose; returns what happened ("granted", "pending",
    "withdrawn" or "unchanged"). A purpose with double opt-in sends its
    confirmation email and counts once confirmed, as on a form."""
    from wagtail_journey.events import record
    from wagtail_journey.privacy.consent import has_consent, record_consent
    from wagtail_journey.privacy.double_opt_in import schedule_confirmation

    with transaction.atomic():
        if grant == has_consent(contact, purpose.key):
            return "unchanged"
        action = ConsentRecord.Action.GRANTED if grant else ConsentRecord.Action.WITHDRAWN
        rec = record_consent(
            contact, purpose, action, method=ConsentRecord.Method.PREFERENCE_CENTRE
        )
        if grant and rec.double_opt_in:
            schedule_confirmation(rec)
            return "pending"
        record(
            "consent_granted" if grant else "consent_withdrawn",
            contact=contact,
            properties={"purpose": purpose.key, "consent_record": rec.pk},
        )
    return "granted" if grant else "withdrawn"


def unsubscribe_all(contact: Contact) -> int:
    """Withdraw every marketing purpose the contact has granted; returns how many."""
    from wagtail_journey.events import record

    count = 0
    with transaction.atomic():
        for purpose in ConsentPurpose.objects.filter(is_marketing=True):
            if set_consent(contact, purpose, False) == "withdrawn":
                count += 1
        if count:
            record("unsubscribed", contact=contact, properties={"all": True})
    return count


#: What a visitor may correct, and how long each may be (the model's columns).
RECTIFIABLE = ("first_name", "last_name", "phone")
_PHONE = re.compile(r"^[0-9+()./\- ]{0,32}$")


def validate_phone(value: str) -> None:
    if value and (not _PHONE.match(value) or sum(c.isdigit() for c in value) < 4):
        raise ValidationError(
            _("Enter a phone number with digits, spaces and + ( ) - . only."), code="phone"
        )


def rectify(contact: Contact, values: dict[str, str]) -> list[str]:
    """Store corrected profile fields; returns the names of those that changed.

    The touchpoint names the fields, not their values: the log keeps no copy.
    """
    from wagtail_journey.events import record

    changed = [f for f in RECTIFIABLE if f in values and getattr(contact, f) != values[f]]
    if not changed:
        return []
    with transaction.atomic():
        Contact.objects.filter(pk=contact.pk).update(
            **{f: values[f] for f in changed}, updated_at=timezone.now()
        )
        for f in changed:
            setattr(contact, f, values[f])
        record(
            "subject_rectified",
            contact=contact,
            properties={"fields": changed, "via": "preference_centre"},
        )
    return changed


def set_objection(contact: Contact, what: str, on: bool) -> bool:
    """Object (or stop objecting) to ``what``: "profiling" or "marketing"; True if it changed."""
    from wagtail_journey.privacy.restriction import set_objection as record_objection

    column = {"profiling": "objects_to_profiling_at", "marketing": "objects_to_marketing_at"}[what]
    before = getattr(contact, column)
    record_objection(contact, **{what: on}, by="preference_centre")
    return (before is None) != (getattr(contact, column) is None)
