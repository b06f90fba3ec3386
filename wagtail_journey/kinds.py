"""Touchpoint kinds as editors read them: a translated label per kind the
package or journey.js records, and the custom kinds a site has actually seen.

Kinds stay short snake_case strings in the log (``order_completed``); screens
show ``kind_label(kind)``. A custom event keeps its name, made readable
("video_play" -> "Video play").
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

#: Every kind the package itself records, with the label editors read.
KIND_LABELS = {
    "page_view": _("Page view"),
    "form_submitted": _("Form submitted"),
    "engagement": _("Time on page"),
    "cta_click": _("Call-to-action click"),
    "email_sent": _("Email sent"),
    "email_opened": _("Email opened"),
    "email_clicked": _("Email link clicked"),
    "email_bounced": _("Email bounced"),
    "unsubscribed": _("Unsubscribed"),
    "cart_updated": _("Cart updated"),
    "checkout_started": _("Checkout started"),
    "order_completed": _("Order completed"),
    "order_refunded": _("Order refunded"),
    "score_changed": _("Score changed"),
    "stage_changed": _("Lifecycle stage changed"),
    "tag_added": _("Tag added"),
    "tag_removed": _("Tag removed"),
    "segment_entered": _("Entered a segment"),
    "segment_left": _("Left a segment"),
    "consent_confirmed": _("Consent confirmed"),
    "consent_granted": _("Consent granted"),
    "consent_withdrawn": _("Consent withdrawn"),
    "subject_rectified": _("Details corrected"),
    "subject_objected": _("Objected"),
    "subject_objection_withdrawn": _("Objection withdrawn"),
    "subject_restricted": _("Processing restricted"),
    "subject_unrestricted": _("Restriction lifted"),
    "subject_erased": _("Erased"),
    "identified": _("Visitor identified"),
}


def kind_label(kind: str) -> str:
    """The label of a kind; a custom kind's own name, made readable."""
    label = KIND_LABELS.get(kind)
    if label is not None:
        return str(label)
    return (kind or "").replace("_", " ").strip().capitalize()


def recent_kinds(days: int = 30) -> set[str]:
    """The kinds recorded lately. Bounded by the time index: the log has no
    index on kind, and a DISTINCT over all of it would read every row."""
    from datetime import timedelta

    from django.utils import timezone

    from wagtail_journey.models import Touchpoint

    since = timezone.now() - timedelta(days=days)
    return set(
        Touchpoint.objects.filter(occurred_at__gte=since)
        .order_by()
        .values_list("kind", flat=True)
        .distinct()
    )


def kind_choices() -> list[tuple[str, str]]:
    """Known and recently seen kinds, labelled, sorted by label (for pickers)."""
    kinds = set(KIND_LABELS) | recent_kinds()
    return sorted(((k, kind_label(k)) for k in kinds), key=lambda item: item[1].lower())


def is_known_kind(kind: str) -> bool:
    """Whether rules on ``kind`` can ever match something the site records."""
    from wagtail_journey.models import Touchpoint

    return kind in KIND_LABELS or Touchpoint.objects.filter(kind=kind).exists()
