"""Who is who: email normalisation, contact lookup, visitor identification.

Kept apart from record() so forms, imports and the admin use the same rules.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
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


def identify_visitor(visitor: Visitor, contact: Contact, *, followed_by: Iterable[str] = ()) -> int:
    """Link ``visitor`` to ``contact`` and hand it the visitor's anonymous history.

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
