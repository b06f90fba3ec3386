"""Privacy actions in Wagtail's audit log (Reports -> Site history).

Exports, erasures, consent changes made by staff, restriction and objection
changes and staff views of a contact are logged with
``wagtail.log_actions.log``. The entry's title is the contact's opaque id
("Contact #12"), never the address or the name: Wagtail keeps titles as
written, and an erased person must not be readable from the history.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from wagtail.log_actions import log

EXPORTED = "wagtail_journey.export"
ERASED = "wagtail_journey.erase"
CONSENT_CHANGED = "wagtail_journey.consent_change"
RESTRICTION_CHANGED = "wagtail_journey.restriction"
OBJECTION_CHANGED = "wagtail_journey.objection"
VIEWED = "wagtail_journey.view_contact"

ACTIONS = {
    EXPORTED: (_("Export a contact's data"), _("Contact data exported")),
    ERASED: (_("Erase a contact"), _("Contact erased")),
    CONSENT_CHANGED: (_("Change a contact's consent"), _("Consent changed by staff")),
    RESTRICTION_CHANGED: (_("Restrict processing"), _("Processing restriction changed")),
    OBJECTION_CHANGED: (_("Record an objection"), _("Objection changed")),
    VIEWED: (_("View a contact"), _("Contact viewed")),
}


def register_log_actions(actions) -> None:
    """``register_log_actions`` hook: the privacy actions, with their labels."""
    for action, (label, message) in ACTIONS.items():
        actions.register_action(action, label, message)


def opaque_title(contact_id: int) -> str:
    """The title of every entry about a contact: its id, nothing personal."""
    return f"Contact #{contact_id}"


def log_contact(contact: Any, action: str, *, user: Any = None, data: dict | None = None) -> None:
    """Log ``action`` about ``contact`` with an opaque title; ``data`` holds no personal data."""
    log(
        contact,
        action,
        user=user if getattr(user, "is_authenticated", False) else None,
        title=opaque_title(contact.pk),
        data=data or {},
    )
