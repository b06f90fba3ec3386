"""Recording and reading consent. The one place that writes ConsentRecord rows."""

from __future__ import annotations

from django.db.models import BooleanField, Case, OuterRef, Q, QuerySet, Subquery, Value, When
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


def latest_records(contact: Contact) -> dict[str, ConsentRecord]:
    """The current answer per purpose key for one contact."""
    result: dict[str, ConsentRecord] = {}
    for rec in contact.consents.select_related("purpose", "version").order_by("created_at", "id"):
        result[rec.purpose.key] = rec
    return result


def has_consent(contact: Contact, purpose_key: str) -> bool:
    """True if the contact's latest answer for the purpose is an effective grant."""
    rec = (
        ConsentRecord.objects.filter(contact=contact, purpose__key=purpose_key)
        .order_by("-created_at", "-id")
        .first()
    )
    return bool(rec and rec.is_effective)


def contacts_with_consent(purpose_key: str) -> QuerySet[Contact]:
    """Contacts whose latest answer for the purpose counts as consent: one query.

    Used by segments and email sending; no Python loop over contacts.
    """
    # One correlated subquery: the latest answer, judged where it is found
    # (three subqueries, one per column, made the database find it three times).
    counts = Q(action=ConsentRecord.Action.GRANTED) & (
        Q(double_opt_in=False) | Q(confirmed_at__isnull=False)
    )
    latest = (
        ConsentRecord.objects.filter(contact=OuterRef("pk"), purpose__key=purpose_key)
        .order_by("-created_at", "-id")
        .annotate(_counts=Case(When(counts, then=Value(True)), default=Value(False)))
        .values("_counts")[:1]
    )
    return Contact.objects.annotate(_consent=Subquery(latest, output_field=BooleanField())).filter(
        _consent=True
    )
