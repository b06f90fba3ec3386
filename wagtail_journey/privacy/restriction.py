"""Restriction of processing (GDPR art. 18) and objection (art. 21).

- *Restricted*: the data is kept, nothing is processed: no scoring, stages,
  segments or flows, no marketing email (transactional mail the person asked
  for still goes).
- *Objects to profiling*: no scoring or segmenting by behaviour.
- *Objects to direct marketing*: every marketing email stops (the send-time
  gate skips it with the reason OBJECTED).

How it is honoured: every reaction registered with ``profiling=True`` (the
default, so a reaction added later honours it too: see events.reaction) is
skipped for a contact for whom :func:`processing_stopped` holds; the
set-based segment rebuild leaves such contacts out (:func:`processable`);
and on the change the contact leaves its dynamic segments at once. Each
change is stored once (a second identical call records nothing), recorded as a
``subject_*`` touchpoint and logged in Wagtail's audit log with an opaque title;
:data:`restriction_changed` lets flows stop their enrolments.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q
from django.dispatch import Signal
from django.utils import timezone

from wagtail_journey.models import Contact, Segment, SegmentMembership
from wagtail_journey.privacy import audit

#: Sent after a change was stored: ``contact``, ``restricted``,
#: ``objects_to_marketing``, ``objects_to_profiling`` (booleans, the new state), ``by``.
restriction_changed = Signal()

RESTRICTED = "subject_restricted"
UNRESTRICTED = "subject_unrestricted"
OBJECTED = "subject_objected"
OBJECTION_WITHDRAWN = "subject_objection_withdrawn"
#: Touchpoint kinds recorded here (system kinds: not activity, never scored).
KINDS = (RESTRICTED, UNRESTRICTED, OBJECTED, OBJECTION_WITHDRAWN)


def stopped_q(prefix: str = "") -> Q:
    """Contacts nothing may be derived for: restricted, objecting to profiling, or erased."""
    return (
        Q(**{f"{prefix}restricted_at__isnull": False})
        | Q(**{f"{prefix}objects_to_profiling_at__isnull": False})
        | Q(**{f"{prefix}erased_at__isnull": False})
    )


def processable() -> Q:
    """The contacts scoring, segments and flows may process (a Q for querysets)."""
    return ~stopped_q()


def processing_stopped(contact: Contact) -> bool:
    """True when no reaction may process ``contact`` (as loaded)."""
    return (
        contact.restricted_at is not None
        or contact.objects_to_profiling_at is not None
        or contact.erased_at is not None
    )


def set_restricted(contact: Contact, on: bool, *, by: str, user: Any = None) -> None:
    """Restrict processing of ``contact`` (``on``) or lift the restriction.

    ``by`` says who asked, for the record ("preference_centre", "admin",
    "command"); ``user`` is the staff member, when there is one.
    """
    now = timezone.now()
    with transaction.atomic():
        rows = Contact.objects.filter(pk=contact.pk, restricted_at__isnull=on)
        changed = rows.update(restricted_at=now if on else None)
        contact.restricted_at = now if on else None
        if not changed:
            contact.refresh_from_db(fields=["restricted_at"])
            return
        _record(contact, RESTRICTED if on else UNRESTRICTED, {"by": by}, user)
        audit.log_contact(
            contact, audit.RESTRICTION_CHANGED, user=user, data={"restricted": on, "by": by}
        )
        if on:
            leave_dynamic_segments(contact)
    _announce(contact, by)


def set_objection(
    contact: Contact,
    *,
    marketing: bool | None = None,
    profiling: bool | None = None,
    by: str,
    user: Any = None,
) -> None:
    """Record an objection to direct ``marketing`` and/or to ``profiling`` (True),
    or its withdrawal (False); None leaves that one as it is."""
    now = timezone.now()
    wanted = {
        name: value
        for name, value in (
            ("objects_to_marketing_at", marketing),
            ("objects_to_profiling_at", profiling),
        )
        if value is not None
    }
    changes: dict[str, bool] = {}
    with transaction.atomic():
        for column, on in wanted.items():
            updated = Contact.objects.filter(pk=contact.pk, **{f"{column}__isnull": on}).update(
                **{column: now if on else None}
            )
            if updated:
                changes[column.removeprefix("objects_to_").removesuffix("_at")] = on
        contact.refresh_from_db(fields=["objects_to_marketing_at", "objects_to_profiling_at"])
        if not changes:
            return
        for what, on in changes.items():
            _record(contact, OBJECTED if on else OBJECTION_WITHDRAWN, {"to": what, "by": by}, user)
        audit.log_contact(contact, audit.OBJECTION_CHANGED, user=user, data={**changes, "by": by})
        if changes.get("profiling"):
            leave_dynamic_segments(contact)
    _announce(contact, by)


def leave_dynamic_segments(contact: Contact) -> int:
    """Take ``contact`` out of every rule-based segment (one DELETE); static
    segments, which people chose by hand, are left alone. Returns rows removed."""
    from wagtail_journey.segments import refresh_member_counts

    rows = SegmentMembership.objects.filter(
        contact_id=contact.pk, segment__kind=Segment.Kind.DYNAMIC
    )
    ids = list(rows.values_list("segment_id", flat=True))
    if not ids:
        return 0
    removed, _ = SegmentMembership.objects.filter(
        contact_id=contact.pk, segment_id__in=ids
    ).delete()
    refresh_member_counts(ids)
    return removed


def _record(contact: Contact, kind: str, properties: dict, user: Any) -> None:
    from wagtail_journey.events import record

    if user is not None and getattr(user, "pk", None):
        properties = {**properties, "staff": user.pk}
    record(kind, contact=contact, properties=properties)


def _announce(contact: Contact, by: str) -> None:
    restriction_changed.send(
        sender=Contact,
        contact=contact,
        restricted=contact.restricted_at is not None,
        objects_to_marketing=contact.objects_to_marketing_at is not None,
        objects_to_profiling=contact.objects_to_profiling_at is not None,
        by=by,
    )
