"""Changes editors make to many contacts at once (the listing's bulk actions).

Each goes through the function that makes the same change for one contact,
so a bulk change records the same touchpoints (``tag_added``, ``segment_entered``
...) and reactions run as they would for a single edit. Tags are written per
contact (each call locks that contact, as a form or flow tagging it at the same
time would); owner and segment changes are one statement for the whole set.

A selection is limited to :data:`MAX_CONTACTS`: "every contact in the
listing" of a million-row list is a job for a segment and a flow, not for a
request. :func:`check_size` says so in words.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from wagtail_journey.models import Contact, Segment
from wagtail_journey.segments import add_static_members, remove_static_members
from wagtail_journey.tags import add_tags, remove_tags

#: The most contacts one bulk action changes.
MAX_CONTACTS = 1_000


def check_size(count: int) -> None:
    """Raise a translated ValidationError when a selection is too large."""
    if count > MAX_CONTACTS:
        raise ValidationError(
            _(
                "%(count)s contacts are selected; a bulk action changes at most %(max)s. "
                "Narrow the listing with its filters, or use a segment."
            )
            % {"count": f"{count:,}", "max": f"{MAX_CONTACTS:,}"}
        )


def tag_contacts(contacts: Iterable[Contact], names: Sequence[str], user=None) -> int:
    """Add the tags to each contact; returns how many contacts got a new tag."""
    changed = 0
    with transaction.atomic():
        for contact in contacts:
            if add_tags(contact, *names, source="bulk", user=user):
                changed += 1
    return changed


def untag_contacts(contacts: Iterable[Contact], names: Sequence[str], user=None) -> int:
    """Remove the tags (any case) from each contact; returns how many lost one."""
    changed = 0
    with transaction.atomic():
        for contact in contacts:
            if remove_tags(contact, *names, source="bulk", user=user):
                changed += 1
    return changed


def assign_owner(contact_ids: Iterable[int], owner) -> int:
    """Make ``owner`` (a user, or None for nobody) the owner of the contacts: one UPDATE."""
    owner_id = owner.pk if owner is not None else None
    ids = list(contact_ids)
    return Contact.objects.filter(pk__in=ids).exclude(owner_id=owner_id).update(owner_id=owner_id)


def add_to_segment(segment: Segment, contact_ids: Iterable[int]) -> int:
    """Add the contacts to a static segment; returns how many were not in it yet."""
    _static(segment)
    return add_static_members(segment, contact_ids)


def remove_from_segment(segment: Segment, contact_ids: Iterable[int]) -> int:
    """Take the contacts out of a static segment; returns how many were in it."""
    _static(segment)
    return remove_static_members(segment, contact_ids)


def _static(segment: Segment) -> None:
    if segment.kind != Segment.Kind.STATIC:
        raise ValidationError(
            _("“%(name)s” is computed from its rules: contacts cannot be added or removed by hand.")
            % {"name": segment.name}
        )


def owner_choices():
    """Users who may own contacts: active users with access to the Wagtail admin."""
    from django.contrib.auth.models import Permission
    from django.db.models import Q

    User = get_user_model()
    access = Permission.objects.filter(
        content_type__app_label="wagtailadmin", codename="access_admin"
    )
    return (
        User.objects.filter(is_active=True)
        .filter(
            Q(is_superuser=True)
            | Q(groups__permissions__in=access)
            | Q(user_permissions__in=access)
        )
        .distinct()
        .order_by(User.USERNAME_FIELD)
    )
