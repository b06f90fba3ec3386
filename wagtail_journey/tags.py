"""Contact tags (django-taggit). Adding or removing a tag records a touchpoint,
so flows and segments can react; forms, scoring rules, flows and the admin all
call these two functions.

Tags ignore case ("VIP" and "vip" are one tag: models.contacts.CaseInsensitiveTags).
Each call locks the contact's row first, so two requests tagging one contact
at once (a double-submitted form) serialise: one tag row and one ``tag_added``
touchpoint, never two.
"""

from __future__ import annotations

from django.db import connection, transaction

from wagtail_journey.models import Contact
from wagtail_journey.models.contacts import resolve_tag


def _clean(names) -> list[str]:
    seen: list[str] = []
    for name in names:
        name = (name or "").strip()[:100]
        if name and name not in seen:
            seen.append(name)
    return seen


def _lock(contact: Contact) -> None:
    # FOR NO KEY UPDATE: serialises taggers of this contact without blocking
    # inserts of rows that reference it (touchpoints, submissions).
    no_key = connection.features.has_select_for_no_key_update
    rows = Contact.objects.select_for_update(no_key=no_key).filter(pk=contact.pk)
    list(rows.values_list("pk", flat=True))


def add_tags(contact: Contact, *names: str, source: str = "", user=None) -> list[str]:
    """Tag ``contact``; returns the tags that were new (each recorded as ``tag_added``).

    A name is matched to an existing tag in any case; the returned and
    recorded names are the stored spelling (the first one ever used).
    """
    from wagtail_journey.events import record

    names_ = _clean(names)
    if not names_:
        return []
    with transaction.atomic():
        _lock(contact)
        have = set(contact.tagged_items.values_list("tag_id", flat=True))
        new = []
        for tag in (resolve_tag(name) for name in names_):
            if tag.pk not in have:
                have.add(tag.pk)
                new.append(tag)
        if new:
            contact.tags.add(*new)
        for tag in new:
            record("tag_added", contact=contact, properties=_props(tag.name, source, user))
    return [tag.name for tag in new]


def remove_tags(contact: Contact, *names: str, source: str = "", user=None) -> list[str]:
    """Untag ``contact`` (names in any case); returns the stored names removed
    (each recorded as ``tag_removed``)."""
    from wagtail_journey.events import record

    wanted = {name.casefold() for name in _clean(names)}
    if not wanted:
        return []
    with transaction.atomic():
        _lock(contact)
        gone = [n for n in contact.tags.names() if n.casefold() in wanted]
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
