"""Recording and reading consent. The one place that writes ConsentRecord rows."""

from __future__ import annotations

from django.db.models import BooleanField, Case, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from wagtail.rich_text import expand_db_html

from wagtail_journey.models import (
    ConsentPurpose,
    ConsentPurposeVersion,
    ConsentRecord,
    Contact,
)


def version_for(purpose: ConsentPurpose, number: int | None) -> ConsentPurposeVersion:
    """The version the visitor saw (``number``), or the current one if unknown."""
    if number:
        found = purpose.versions.filter(number=number).first()
        if found is not None:
            return found
    return purpose.versions.order_by("-number").first()


def record_consent(
    contact: Contact,
    purpose: ConsentPurpose,
    action: str,
    *,
    method: str,
    version: ConsentPurposeVersion | None = None,
    **proof: object,
) -> ConsentRecord:
    """Store one answer with the exact text of the version shown."""
    version = version or version_for(purpose, None)
    return ConsentRecord.objects.create(
        contact=contact,
        purpose=purpose,
        version=version,
        action=action,
        method=method,
        **answer_proof(version, action),
        **proof,
    )


def answer_proof(version: ConsentPurposeVersion, action: str) -> dict:
    """What an answer to ``version`` records: the text shown, and whether it
    waits for a double-opt-in confirmation."""
    return {
        "text_shown": expand_db_html(version.text),
        "double_opt_in": version.double_opt_in and action == ConsentRecord.Action.GRANTED,
    }


def deciding_records() -> QuerySet[ConsentRecord]:
    """The answers that set a contact's state for a purpose, latest first.

    A grant counts once it is effective (no double opt-in, or confirmed), and
    from then on: a confirmed grant takes effect when confirmed. A withdrawal
    counts when made. A grant still waiting for its confirmation changes
    nothing yet, so re-submitting a form does not suspend a confirmed consent
    until the new email is confirmed; and a box left unticked on a form
    (``refused``) is kept as what was answered but withdraws nothing: a form
    is no proof of who typed the address, and withdrawing goes through the
    unsubscribe link, the preference centre or the admin (``withdrawn``).
    """
    decides = Q(action=ConsentRecord.Action.WITHDRAWN) | (
        Q(action=ConsentRecord.Action.GRANTED)
        & (Q(double_opt_in=False) | Q(confirmed_at__isnull=False))
    )
    return (
        ConsentRecord.objects.filter(decides)
        .annotate(_effective_at=Coalesce("confirmed_at", "created_at"))
        .order_by("-_effective_at", "-id")
    )


def deciding_record(contact: Contact, purpose_key: str) -> ConsentRecord | None:
    """The answer that sets ``contact``'s current state for the purpose (or None)."""
    return deciding_records().filter(contact=contact, purpose__key=purpose_key).first()


def has_consent(contact: Contact, purpose_key: str) -> bool:
    """True if the contact's deciding answer for the purpose is a grant (see deciding_records)."""
    rec = deciding_record(contact, purpose_key)
    return bool(rec and rec.action == ConsentRecord.Action.GRANTED)


def contacts_with_consent(purpose_key: str) -> QuerySet[Contact]:
    """Contacts whose deciding answer for the purpose is a grant: one query.

    Used by segments and email sending; no Python loop over contacts.
    """
    # One correlated subquery: the deciding answer, judged where it is found
    # (three subqueries, one per column, made the database find it three times).
    latest = (
        deciding_records()
        .filter(contact=OuterRef("pk"), purpose__key=purpose_key)
        .annotate(
            _counts=Case(
                When(action=ConsentRecord.Action.GRANTED, then=Value(True)),
                default=Value(False),
            )
        )
        .values("_counts")[:1]
    )
    return Contact.objects.annotate(_consent=Subquery(latest, output_field=BooleanField())).filter(
        _consent=True
    )
