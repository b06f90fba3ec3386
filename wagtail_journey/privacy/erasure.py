"""Erasure (GDPR art. 17): every personal datum of a contact, in every table, at once.

What goes is read from the personal-data registry (privacy/pii.py), so a new
table or column is erased by construction (its system check refuses an
unclassified one). For each registered model that reaches the contact (or one
of the contact's browsers), in one transaction and a bounded number of
set-based statements whatever the history's size:

- ``ANONYMISE``: personal fields blanked and derived ones reset, the row kept
  for anonymous counts (touchpoints keep kind, time and page);
- ``DELETE``: rows deleted (score ledger, segment and tag memberships, the
  browsers and their sessions, export files);
- the contact row itself becomes an anonymous shell (``erased_at`` set), so
  roll-ups and the receipt keep a key that names nobody.

And what the package wrote elsewhere: Wagtail's audit log (the entries about
the contact get an opaque title; any entry whose title or data holds the
address, name or phone is emptied), django-q2 task rows that carry them, the
outbox (context, address, provider id), and the suppression list, which keeps
only the keyed HMAC of the address (``Suppression.Source.ERASED``) so the
person is never emailed again by accident, even when re-imported.

The result is an :class:`~wagtail_journey.models.ErasureReceipt` (rows per
table, no personal data) and :data:`subject_erased` is sent (flows stop
enrolments there). :func:`erasure_plan` is the dry run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import models, transaction
from django.db.models import CharField, F, Q, TextField, Value
from django.db.models.functions import Cast, Concat
from django.dispatch import Signal
from django.utils import timezone

from wagtail_journey.identity import normalize_email
from wagtail_journey.models import (
    Contact,
    DataExport,
    ErasureReceipt,
    OutboundEmail,
    SegmentMembership,
    Suppression,
    Visitor,
)
from wagtail_journey.models.outbound import OutboundReason, OutboundStatus, address_key
from wagtail_journey.privacy import audit, pii

logger = logging.getLogger(__name__)

#: Sent after the transaction that erased ``contact_ids`` (with their ``receipts``) committed.
subject_erased = Signal()

#: What an erased contact's address becomes (unique, names nobody).
ERASED_EMAIL = "erased-{pk}@erased.invalid"
#: The title audit entries that held personal data are given.
ERASED_TITLE = "[erased]"
#: Names shorter than this are not searched for in the audit log (too many false hits).
MIN_NEEDLE = 4


class _Subjects:
    """The contacts being erased and what identifies them, read once."""

    def __init__(self, ids: Sequence[int]):
        rows = list(
            Contact.objects.filter(pk__in=ids, erased_at__isnull=True).values_list(
                "pk", "email", "first_name", "last_name", "phone"
            )
        )
        self.ids = [r[0] for r in rows]
        self.emails = [normalize_email(r[1]) for r in rows if r[1]]
        needles: set[str] = set(self.emails)
        for _pk, _email, first, last, phone in rows:
            full = f"{first} {last}".strip()
            needles.update(n for n in (full, first, last, phone) if len(n) >= MIN_NEEDLE)
        self.needles = sorted(needles)
        self.visitor_ids = list(
            Visitor.objects.filter(contact_id__in=self.ids).values_list("pk", flat=True)
        )

    def filter_for(self, privacy: pii.ModelPrivacy) -> Q | None:
        """Rows of a registered model that belong to these contacts or their browsers."""
        q = Q()
        found = False
        if privacy.subject:
            q |= Q(**{f"{privacy.subject}__in": self.ids})
            found = True
        if privacy.visitor and self.visitor_ids:
            q |= Q(**{f"{privacy.visitor}__in": self.visitor_ids})
            found = True
        return q if found else None


def erasure_plan(contact: Contact) -> dict[str, int]:
    """Dry run: how many rows erasure would delete or empty, per table (nothing changes)."""
    return plan([contact.pk])


def plan(contact_ids: Iterable[int]) -> dict[str, int]:
    """:func:`erasure_plan` for several contacts at once."""
    subjects = _Subjects(list(contact_ids))
    counts: dict[str, int] = {}
    if not subjects.ids:
        return counts
    for model, privacy in pii.registered_models():
        if privacy.erase == pii.KEEP:
            continue
        q = subjects.filter_for(privacy)
        if q is None:
            continue
        counts[model._meta.db_table] = model._base_manager.filter(q).count()
    counts[Suppression._meta.db_table] = len(subjects.emails)
    for model, q in _log_entry_filters(subjects):
        counts[model._meta.db_table] = _log_rows(model).filter(q).count()
    counts["django_q_task"] = len(_task_ids(subjects))
    return {table: n for table, n in counts.items() if n}


def erase_contact(contact: Contact, *, by: str, user: Any = None) -> ErasureReceipt:
    """Erase ``contact``'s personal data everywhere; returns the receipt.

    ``by`` says who asked ("admin", "preference_centre", "command", "retention");
    ``user`` is the staff member, when there is one. Erasing an erased contact
    again changes nothing and returns its first receipt.
    """
    receipts = erase_contacts([contact.pk], by=by, user=user)
    if receipts:
        receipt = receipts[0]
    else:
        receipt = ErasureReceipt.objects.filter(contact_ref=contact.pk).order_by("pk").first()
        if receipt is None:  # erased before receipts existed
            receipt = ErasureReceipt.objects.create(contact_ref=contact.pk, requested_by=by[:64])
    contact.refresh_from_db()
    return receipt


def erase_contacts(
    contact_ids: Iterable[int], *, by: str, user: Any = None
) -> list[ErasureReceipt]:
    """Erase several contacts in one transaction (the admin's bulk action, retention).

    The statements are set-based over all of them; each contact gets a receipt
    holding the batch's counts. Contacts already erased are skipped.
    """
    now = timezone.now()
    exports: list[str] = []
    with transaction.atomic():
        # Lock first: nothing is derived for them while their rows are emptied.
        list(
            Contact.objects.select_for_update()
            .filter(pk__in=list(contact_ids))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        subjects = _Subjects(list(contact_ids))
        if not subjects.ids:
            return []
        exports = list(
            DataExport.objects.filter(contact_id__in=subjects.ids)
            .exclude(file_name="")
            .values_list("file_name", flat=True)
        )
        counts: dict[str, int] = {}
        _erase_elsewhere(subjects, counts)
        _erase_registered(subjects, counts, now)
        receipts = [
            ErasureReceipt(contact_ref=pk, requested_by=by[:64], erased_at=now, counts=counts)
            for pk in subjects.ids
        ]
        ErasureReceipt.objects.bulk_create(receipts)
        shells = Contact.objects.filter(pk__in=subjects.ids)
        for shell in shells:
            audit.log_contact(
                shell,
                audit.ERASED,
                user=user,
                data={"by": by, "contacts": len(subjects.ids)},
            )
        ids, visitor_ids = subjects.ids, subjects.visitor_ids

        def after_commit() -> None:
            forget_buffered(visitor_ids, ids)
            subject_erased.send(sender=Contact, contact_ids=ids, receipts=receipts)

        transaction.on_commit(after_commit)
    _delete_export_files(exports)
    return receipts


# --- the registry's models --------------------------------------------------------------


def _erase_registered(subjects: _Subjects, counts: dict[str, int], now) -> None:
    registered = list(pii.registered_models())
    # 1. Rows kept for their counts: personal fields blanked, derived ones reset.
    for model, privacy in registered:
        if privacy.erase != pii.ANONYMISE or model is Contact:
            continue
        q = subjects.filter_for(privacy)
        if q is None:
            continue
        names = pii.resettable(model, privacy.reset_fields())
        changed = model._base_manager.filter(q).update(
            **{n: pii.empty_value(model, n) for n in names}
        )
        if changed:
            counts[model._meta.db_table] = changed
    # 2. Rows that go, dependents first (registry order); browsers last.
    segments = list(
        SegmentMembership.objects.filter(contact_id__in=subjects.ids)
        .values_list("segment_id", flat=True)
        .distinct()
    )
    for model, privacy in registered:
        if privacy.erase != pii.DELETE:
            continue
        q = subjects.filter_for(privacy)
        if q is None:
            continue
        if model is Visitor:
            _detach_visitors(subjects.visitor_ids)
        qs = model._base_manager.filter(q)
        deleted = qs._raw_delete(qs.db)
        if deleted:
            counts[model._meta.db_table] = deleted
    if segments:
        from wagtail_journey.segments import refresh_member_counts

        refresh_member_counts(segments)
    # 3. The contact: an anonymous shell.
    contact_privacy = pii.registry()["wagtail_journey.Contact"]
    names = [n for n in pii.resettable(Contact, contact_privacy.reset_fields()) if n != "email"]
    changed = Contact.objects.filter(pk__in=subjects.ids).update(
        email=Concat(
            Value("erased-"), Cast("pk", CharField()), Value("@erased.invalid"),
            output_field=CharField(),
        ),
        erased_at=now,
        **{n: pii.empty_value(Contact, n) for n in names},
    )  # fmt: skip
    counts[Contact._meta.db_table] = changed


def _detach_visitors(visitor_ids: list[int]) -> None:
    """Whatever still points at the browsers (a site's model, say) lets go or goes with them."""
    if not visitor_ids:
        return
    for rel in Visitor._meta.related_objects:
        if not (rel.one_to_many or rel.one_to_one):
            continue
        related = rel.related_model._base_manager.filter(**{f"{rel.field.name}__in": visitor_ids})
        if rel.on_delete is models.CASCADE:
            related._raw_delete(related.db)
        else:
            related.update(**{rel.field.name: None})


# --- what the package wrote elsewhere ---------------------------------------------------


def _erase_elsewhere(subjects: _Subjects, counts: dict[str, int]) -> None:
    keys = sorted({address_key(e) for e in subjects.emails})
    if keys:
        # The keyed hash stays (never emailed again); the readable address goes.
        Suppression.objects.filter(address_hash__in=keys).update(address="", reason="")
        Suppression.objects.bulk_create(
            [
                Suppression(address_hash=k, address="", source=Suppression.Source.ERASED)
                for k in keys
            ],
            ignore_conflicts=True,
        )
        counts[Suppression._meta.db_table] = len(keys)
    # Messages still queued are skipped, and test sends to the bare address emptied.
    OutboundEmail.objects.filter(
        contact_id__in=subjects.ids,
        status__in=(OutboundStatus.PENDING, OutboundStatus.SENDING),
    ).update(status=OutboundStatus.SKIPPED, reason=OutboundReason.ERASED)
    if subjects.emails:
        bare = OutboundEmail.objects.filter(address__in=subjects.emails).update(
            address="", context={}, detail="", esp_message_id=""
        )
        if bare:
            counts["wagtail_journey_outboundemail_address"] = bare
    for model, q in _log_entry_filters(subjects):
        changed = _erase_log_entries(model, q, subjects)
        if changed:
            counts[model._meta.db_table] = changed
    tasks = _task_ids(subjects)
    if tasks:
        from django_q.models import Task

        counts["django_q_task"] = Task.objects.filter(pk__in=tasks).delete()[0]


def _log_entry_filters(subjects: _Subjects) -> list[tuple[type[models.Model], Q]]:
    """(log entry model, rows about these contacts or holding their data)."""
    from django.contrib.contenttypes.models import ContentType
    from wagtail.log_actions import registry as log_registry

    contact_type = ContentType.objects.get_for_model(Contact)
    result = []
    for model in log_registry.get_log_entry_models():
        q = _needle_q(subjects)
        if any(f.name == "object_id" for f in model._meta.get_fields()):
            q |= Q(content_type=contact_type, object_id__in=[str(pk) for pk in subjects.ids])
        result.append((model, q))
    return result


def _log_rows(model: type[models.Model]) -> models.QuerySet:
    """Log entries with their data as text, to search it (``_wj_data``)."""
    return model.objects.annotate(_wj_data=Cast("data", TextField()))


def _erase_log_entries(model: type[models.Model], q: Q, subjects: _Subjects) -> int:
    ids = list(_log_rows(model).filter(q).values_list("pk", flat=True))
    if not ids:
        return 0
    holding = _log_rows(model).filter(Q(pk__in=ids) & _needle_q(subjects))
    # Entries that held a name or an address lose their title and data.
    emptied = set(holding.values_list("pk", flat=True))
    if emptied:
        model.objects.filter(pk__in=emptied).update(label=ERASED_TITLE, data={})
    # The contact's own entries keep their data (none personal) under an opaque title.
    rest = [pk for pk in ids if pk not in emptied]
    if rest:
        model.objects.filter(pk__in=rest).update(
            label=Concat(Value("Contact #"), F("object_id"), output_field=CharField())
        )
    return len(ids)


def _needle_q(subjects: _Subjects) -> Q:
    q = Q(pk__in=[])
    for needle in subjects.needles:
        q |= Q(label__icontains=needle) | Q(_wj_data__icontains=needle)
    return q


#: Task functions that take a contact or export id as their first argument.
_CONTACT_TASKS = ("wagtail_journey.privacy.export.build_export",)


def _task_ids(subjects: _Subjects) -> list[str]:
    """django-q2 task rows (results and failures) of the package that hold these
    contacts' data: their address, name or phone in the arguments or the result,
    or an export of theirs. The table is bounded by the cluster's save limit."""
    try:
        from django_q.models import Task
    except ImportError:  # pragma: no cover - django_q is a dependency
        return []
    exports = {
        str(pk)
        for pk in DataExport.objects.filter(contact_id__in=subjects.ids).values_list(
            "pk", flat=True
        )
    }
    needles = [n.casefold() for n in subjects.needles]
    found = []
    for task in Task.objects.filter(func__startswith="wagtail_journey").iterator(chunk_size=500):
        text = repr((task.name, task.args, task.kwargs, task.result)).casefold()
        if (
            any(n in text for n in needles)
            or task.func in _CONTACT_TASKS
            and task.args
            and str(task.args[0]) in exports
        ):
            found.append(task.pk)
    return found


def forget_buffered(visitor_ids: Iterable[int], contact_ids: Iterable[int]) -> int:
    """Drop the erased people's items from the tracking buffer's dead-letter list
    (Redis, TRACKING_BUFFER): items the database refused, kept for a developer.

    Items still queued need nothing: the flush drops items of erased browsers.
    Redis being away is logged, never the erasure's failure (the dead letters
    name browsers by id only, and the ids are gone from the database).
    """
    from wagtail_journey.conf import journey_settings

    if not journey_settings.TRACKING_BUFFER:
        return 0
    import json

    from wagtail_journey.tracking import buffer

    visitors, contacts = set(visitor_ids), set(contact_ids)
    removed = 0
    try:
        client, key = buffer._client(), buffer._key("dead")
        for raw in client.lrange(key, 0, -1):
            try:
                item = json.loads(raw)
            except ValueError:
                continue
            if isinstance(item, dict) and (item.get("v") in visitors or item.get("c") in contacts):
                removed += int(client.lrem(key, 0, raw))
    except Exception:  # Redis away: logged; nothing in it names the person  # noqa: BLE001
        logger.warning("Could not clean the tracking dead-letter list after an erasure")
    return removed


def _delete_export_files(names: list[str]) -> None:
    if not names:
        return
    from wagtail_journey.privacy.export import export_storage

    storage = export_storage()
    for name in names:
        try:
            storage.delete(name)
        except OSError:  # already gone: the retention schedule tried too
            logger.warning("Export file %s could not be deleted", name)
