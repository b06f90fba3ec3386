"""Contact tags (django-taggit). Adding or removing a tag records a touchpoint,
so flows and segments can react; forms, scoring rules, flows and the admin all
call these two functions."""

from __future__ import annotations

from django.db import transaction

from wagtail_journey.models import Contact


def _clean(names) -> list[str]:
    seen: list[str] = []
    for name in names:
        name = (name or "").strip()
        if name and name not in seen:
            seen.append(name[:100])
    return seen


def add_tags(contact: Contact, *names: str, source: str = "", user=None) -> list[str]:
    """Tag ``contact``; returns the tags that were new (each recorded as ``tag_added``)."""
    from wagtail_journey.events import record

    names_ = _clean(names)
    with transaction.atomic():
        existing = set(contact.tags.names())
        new = [n for n in names_ if n not in existing]
        if new:
            contact.tags.add(*new)
        for name in new:
            record("tag_added", contact=contact, properties=_props(name, source, user))
    return new


def remove_tags(contact: Contact, *names: str, source: str = "", user=None) -> list[str]:
    """Untag ``contact``; returns the tags removed (each recorded as ``tag_removed``)."""
    from wagtail_journey.events import record

    names_ = _clean(names)
    with transaction.atomic():
        existing = set(contact.tags.names())
        gone = [n for n in names_ if n in existing]
        if gone:
            contact.tags.remove(*gone)
        for name in gone:
            record("tag_removed", contact=contact, properties=_props(name, source, user))
    return gone


def _props(name: str, source: str, user) -> dict:
    props = {"tag": name}
    if source:
        props["source"] = source
    if user is not None:
        props["by"] = user.get_username()
    return props
