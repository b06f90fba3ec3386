"""First-touch and last-touch source of a contact (UTM or referrer).

A "touch" is a touchpoint that says where the person came from: it has UTM
parameters or an external referrer. Direct visits are not touches, so the
last touch is the last non-direct one. The values on Contact are caches; the
touchpoint log is the truth and this module recomputes them from it.
"""

from __future__ import annotations

from django.db.models import Q

from wagtail_journey.events import reaction
from wagtail_journey.models import Contact, Touchpoint

_TOUCH = Q(utm__isnull=False) | Q(properties__has_key="ref")


def touch_of(tp: Touchpoint) -> dict:
    utm = tp.utm or {}
    ref = (tp.properties or {}).get("ref", "")
    touch = {"at": tp.occurred_at.isoformat(), "kind": tp.kind}
    touch.update({k: v for k, v in utm.items() if v})
    if ref:
        touch["referrer"] = ref
        touch.setdefault("source", ref)
        touch.setdefault("medium", "referral")
    if tp.page_id:
        touch["page"] = tp.page_id
    return touch


def is_touch(tp: Touchpoint) -> bool:
    return bool(tp.utm) or bool((tp.properties or {}).get("ref"))


def refresh_touches(contact: Contact, **_: object) -> None:
    """Recompute first/last touch of ``contact`` from its timeline (two indexed reads)."""
    touches = Touchpoint.objects.filter(_TOUCH, contact=contact)
    first = touches.order_by("occurred_at", "id").first()
    if first is None:
        return
    last = touches.order_by("-occurred_at", "-id").first()
    first_touch, last_touch = touch_of(first), touch_of(last)
    Contact.objects.filter(pk=contact.pk).update(first_touch=first_touch, last_touch=last_touch)
    contact.first_touch, contact.last_touch = first_touch, last_touch


def touches_of_history(contact: Contact, touchpoints: list[Touchpoint]) -> None:
    """An identified visitor's history joined the contact: refresh its touches
    once (when any of it came from a source)."""
    if any(is_touch(tp) for tp in touchpoints):
        refresh_touches(contact)


@reaction("attribution", order=20, history=touches_of_history)
def update_touches(touchpoint: Touchpoint) -> None:
    """A contact arrived from a source: refresh its first/last touch."""
    if touchpoint.contact_id and is_touch(touchpoint):
        refresh_touches(Contact(pk=touchpoint.contact_id))
