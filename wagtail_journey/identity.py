"""Who is who: email normalisation, contact lookup, visitor identification.

Kept apart from record() so forms, imports and the admin use the same rules.
"""

from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from wagtail_journey.models import Contact, Touchpoint, Visitor


def normalize_email(value: str) -> str:
    """Canonical form of an address: stripped, NFC, lower-cased (local part too).

    Lower-casing the local part is technically lossy (RFC 5321 lets a server
    treat it case-sensitively) but no real mailbox provider does, and one
    person typing ``Ana@X.org`` and ``ana@x.org`` must be one contact.
    """
    email = unicodedata.normalize("NFC", (value or "").strip()).lower()
    return email


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


def identify_visitor(visitor: Visitor, contact: Contact) -> int:
    """Link ``visitor`` to ``contact`` and hand it the visitor's anonymous history.

    One set-based UPDATE; returns how many earlier touchpoints moved to the
    contact's timeline. A visitor already linked to another contact (a shared
    browser) is re-linked; touchpoints already attributed stay where they are.
    Audience-only visitors and touchpoints (exempt mode without consent) are
    never stitched. First/last-touch attribution of the contact is refreshed
    from the history that moved (see tracking.attribution).
    """
    if visitor.audience_only:
        return 0
    if visitor.contact_id != contact.pk:
        Visitor.objects.filter(pk=visitor.pk).update(contact=contact)
        visitor.contact = contact
    moved = Touchpoint.objects.filter(
        visitor=visitor, contact__isnull=True, audience_only=False
    ).update(contact=contact)
    if moved:
        from wagtail_journey.tracking.attribution import refresh_touches

        refresh_touches(contact, visitor=visitor)
    return moved
