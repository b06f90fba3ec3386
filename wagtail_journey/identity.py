"""Who is who: email normalisation, contact lookup, visitor identification.

Kept apart from record() so forms, imports and the admin use the same rules.

The identity rule (docs/architecture.md, "Identity"): a browser's cookie says
nothing about who uses it, and a form says only what someone typed. A browser
is joined to an *existing* contact (its history moved onto the contact, later
touchpoints attributed to it) only when it proves control of the address:
:func:`prove_control`, called when a double opt-in link is confirmed or a
tracked link from an email sent to the address is followed. A contact created
by the submission itself may take the submitting browser at once: it holds
nothing but what that browser gave.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import idna
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wagtail_journey.models import Contact, Touchpoint, Visitor

#: Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt, Unicode
#: 15): soft hyphen, zero-width (non-)joiners and spaces, direction marks,
#: variation selectors, the BOM, tags ... Mail systems and people's eyes skip
#: them, so ``a\u00adna@x.org`` is the mailbox ``ana@x.org``.
_IGNORABLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f"
    "\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
)


def _domain(domain: str) -> str:
    """The domain in one form: UTS #46 mapping, then back to Unicode (U-labels).

    ``bücher.de``, ``BÜCHER.de`` and ``xn--bcher-kva.de`` are one domain; the
    Unicode form is kept because it is what people typed and read (mail
    libraries encode it again when sending). A domain IDNA refuses (an
    address literal, an underscore) stays as it is: validation judges it.
    """
    try:
        return idna.decode(idna.encode(domain, uts46=True))
    except (idna.IDNAError, UnicodeError):
        return domain


def normalize_email(value: str) -> str:
    """Canonical form of an address: one mailbox, one string.

    Default-ignorable code points removed, NFKC (full-width ``ａｎａ`` is
    ``ana``; NFKC includes NFC's composition of ``e`` + accent), stripped,
    lower-cased, the domain in its IDNA (UTS #46) form. Lower-casing the local
    part is technically lossy (RFC 5321 lets a server treat it
    case-sensitively) but no real mailbox provider does, and one person typing
    ``Ana@X.org`` and ``ana@x.org`` must be one contact.

    Every lookup by address goes through this (forms, shop events, the admin,
    imports, record(email=...)), so each finds the one stored contact.
    """
    email = _IGNORABLE.sub("", value or "")
    email = unicodedata.normalize("NFKC", email).strip().lower()
    local, at, domain = email.rpartition("@")
    if at and domain:
        email = f"{local}@{_domain(domain)}"
    return email


class EmailAddressField(forms.EmailField):
    """A form field that judges an address as the contact lookup will read it.

    The normalised address (full-width letters, soft hyphens, IDN domains) is
    what gets validated and length-checked: the address that will be stored,
    and the cleaned value. With ``keep_typed=True`` (landing-page forms) the
    cleaned value stays as typed (stripped), so a submission keeps what the
    visitor entered; the contact lookup normalises it. The admin's contact
    form uses it too (``Contact.email`` is a
    :class:`~wagtail_journey.models.contacts.ContactEmailField`).
    """

    def __init__(self, *, keep_typed: bool = False, **kwargs: object) -> None:
        self.keep_typed = keep_typed
        super().__init__(**kwargs)

    def clean(self, value: object) -> str:
        typed = self.to_python(value)
        normalised = normalize_email(typed)
        self.validate(normalised)
        self.run_validators(normalised)
        return typed if self.keep_typed else normalised


def clean_email(value: str) -> str:
    """Normalise and validate; raises a translated ValidationError when invalid."""
    email = normalize_email(value)
    if not email:
        raise ValidationError(_("Enter an email address."), code="required")
    if len(email) > 254:
        raise ValidationError(_("This email address is too long."), code="max_length")
    validate_email(email)
    return email


def get_or_create_contact(email: str, **defaults: str) -> tuple[Contact, bool]:
    """Return the contact for ``email``, creating it once even under concurrency.

    Two requests racing for a new address both try the INSERT; the unique
    constraint lets one win and the loser reads the winner's row. The INSERT
    runs in a savepoint so an outer transaction survives the lost race.
    ``created`` is True only for the request whose INSERT won: the one the
    identity rule lets link its browser at once.
    """
    email = clean_email(email)
    try:
        return Contact.objects.get(email=email), False
    except Contact.DoesNotExist:
        pass
    try:
        with transaction.atomic():
            return Contact.objects.create(email=email, **defaults), True
    except IntegrityError:
        return Contact.objects.get(email=email), False


def address_confirmed(contact: Contact) -> bool:
    """Has the owner of the contact's address ever proved control of it?

    Until then, email to the address carries no text a visitor entered (a
    stranger may have typed the name); see docs/architecture.md.
    """
    return contact.email_confirmed_at is not None


def prove_control(visitor: Visitor | None, contact: Contact, how: str) -> bool:
    """The browser ``visitor`` has shown it controls ``contact``'s address.

    ``how`` says by what: ``"double_opt_in"`` (a confirmation link),
    ``"email_link"`` (a tracked link in an email sent to the address), or a
    site's own (``"login"``). The contact's address counts as confirmed from
    now on; the browser is linked to the contact and its anonymous history
    joins the contact's timeline, recorded as an ``identified`` touchpoint
    (properties: ``how``). Returns True when the browser was newly linked.

    Call it only for a proof that comes from the address itself, and once per
    proof: a replayed or forwarded link must not reach here (the double opt-in
    link links a browser only the first time it confirms).
    """
    from wagtail_journey.events import record

    Contact.objects.filter(pk=contact.pk, email_confirmed_at__isnull=True).update(
        email_confirmed_at=timezone.now()
    )
    if contact.email_confirmed_at is None:
        contact.refresh_from_db(fields=["email_confirmed_at"])
    if visitor is None or visitor.audience_only:
        return False
    current = Visitor.objects.filter(pk=visitor.pk).values_list("contact_id", flat=True).first()
    if current == contact.pk:
        return False
    record(
        "identified",
        contact=contact,
        visitor=visitor,
        identify=True,
        properties={"how": how[:32]},
    )
    return True


def identify_visitor(visitor: Visitor, contact: Contact, *, followed_by: Iterable[str] = ()) -> int:
    """Link ``visitor`` to ``contact`` and hand it the visitor's anonymous history.

    The mechanism, not the decision: call it only where the identity rule
    allows (the contact was created by this browser's own act, or the browser
    proved control through :func:`prove_control`).

    Returns how many earlier touchpoints moved to the contact's timeline. A
    visitor already linked to another contact (a shared browser) is re-linked;
    touchpoints already attributed stay where they are. Audience-only visitors
    and touchpoints (exempt mode without consent) are never stitched.

    The moved touchpoints then go through the reactions' history forms
    (events.run_history): scored with the same rules and caps in time order,
    journey and lifecycle stages, first/last touch, last activity, and one
    segment re-test (``followed_by``: see run_history). That is a bounded
    number of queries however long the history.

    The visitor row is locked first: two identifications of one visitor at
    once (a double-clicked form) serialise there, and the second finds no
    anonymous touchpoint left, so nothing is moved or scored twice.
    """
    from wagtail_journey.events import run_history

    no_key = connection.features.has_select_for_no_key_update
    with transaction.atomic():
        row = next(
            iter(
                Visitor.objects.select_for_update(no_key=no_key)
                .filter(pk=visitor.pk)
                .values_list("contact_id", "audience_only")[:1]
            ),
            None,
        )
        if row is None or row[1] or visitor.audience_only:
            return 0
        if row[0] != contact.pk:
            Visitor.objects.filter(pk=visitor.pk).update(contact=contact)
        visitor.contact = contact
        anonymous = Touchpoint.objects.filter(
            visitor=visitor, contact__isnull=True, audience_only=False
        )
        history = list(anonymous.order_by("occurred_at", "id"))
        if not history:
            return 0
        # Under the visitor lock no anonymous touchpoint of this visitor can
        # be added (record() reads the link under the same lock), so the
        # UPDATE moves exactly the rows read above.
        anonymous.update(contact=contact)
        for tp in history:
            tp.contact = contact
        run_history(contact, history, followed_by=followed_by)
    return len(history)
