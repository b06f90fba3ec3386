"""A contact's timeline: every touchpoint, newest first, grouped by visit.

Anonymous touchpoints join the contact when the browser is identified
(``identity.identify_visitor`` moves them), so the contact's rows in the
log are the whole history. What editors want to see is *which* of them
happened before anyone knew who this was: a touchpoint counts as
"before identification" when it came from a browser earlier than that
browser's first form submission or identification for this contact (or,
for a browser without either, earlier than the contact's creation).

Reads go through the ``(contact, occurred_at)`` index: one query for a page
of touchpoints (keyset, so page 100 costs what page 1 does), one for the
moments each browser was identified, one for the kinds used in the filter
and one for page titles, however long the history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Min, Q

from wagtail_journey.contacts.paging import decode_cursor, encode_cursor
from wagtail_journey.kinds import kind_label
from wagtail_journey.models import Contact, Touchpoint

#: Touchpoints per timeline page.
PAGE_SIZE = 100
#: Kinds that tell who a browser belongs to.
IDENTIFYING = ("form_submitted", "identified")
ORDER = "-occurred_at"


@dataclass
class Entry:
    touchpoint: Touchpoint
    label: str
    page_title: str
    anonymous: bool


@dataclass
class Visit:
    """Consecutive touchpoints of one session (or of none: emails, system events)."""

    session: int | None
    entries: list[Entry] = field(default_factory=list)

    @property
    def started_at(self) -> datetime:
        return self.entries[-1].touchpoint.occurred_at

    @property
    def ended_at(self) -> datetime:
        return self.entries[0].touchpoint.occurred_at

    @property
    def anonymous(self) -> bool:
        return all(e.anonymous for e in self.entries)

    @property
    def source(self) -> dict:
        """The UTM of the visit's first touchpoint that has one."""
        for entry in reversed(self.entries):
            if entry.touchpoint.utm:
                return entry.touchpoint.utm
        return {}


@dataclass
class Timeline:
    visits: list[Visit]
    kinds: list[tuple[str, str]]  # (kind, label) this contact has, for the filter
    next_cursor: str = ""
    has_previous: bool = False


def contact_kinds(contact: Contact) -> list[tuple[str, str]]:
    """The kinds in this contact's log, labelled and sorted by label."""
    kinds = (
        Touchpoint.objects.filter(contact=contact)
        .order_by()
        .values_list("kind", flat=True)
        .distinct()
    )
    return sorted(((k, kind_label(k)) for k in kinds), key=lambda item: item[1].lower())


def identified_at(contact: Contact) -> dict[int, datetime]:
    """When each of the contact's browsers first said who it was (visitor id -> time)."""
    return dict(
        Touchpoint.objects.filter(contact=contact, kind__in=IDENTIFYING, visitor__isnull=False)
        .order_by()
        .values("visitor_id")
        .annotate(first=Min("occurred_at"))
        .values_list("visitor_id", "first")
    )


def is_anonymous(tp: Touchpoint, contact: Contact, moments: dict[int, datetime]) -> bool:
    """Recorded from a browser before that browser was known to be this contact."""
    if tp.visitor_id is None:
        return False
    moment = moments.get(tp.visitor_id, contact.created_at)
    return tp.occurred_at < moment or (
        tp.occurred_at == moment and tp.kind not in IDENTIFYING and moment != contact.created_at
    )


def contact_timeline(
    contact: Contact, *, kinds: list[str] | None = None, after: str = "", size: int = PAGE_SIZE
) -> Timeline:
    """One page of the contact's timeline, newest first, grouped into visits.

    ``kinds`` limits it to those kinds; ``after`` is the cursor of the previous
    page's last touchpoint (an invalid one starts at the top).
    """
    rows = Touchpoint.objects.filter(contact=contact)
    if kinds:
        rows = rows.filter(kind__in=kinds)
    key = decode_cursor(Touchpoint, "occurred_at", after, ORDER)
    if key is not None and key[0] is not None:
        when, pk = key
        rows = rows.filter(Q(occurred_at__lt=when) | Q(occurred_at=when, pk__lt=pk))
    page = list(rows.order_by("-occurred_at", "-pk")[: size + 1])
    more = len(page) > size
    page = page[:size]
    moments = identified_at(contact)
    titles = _titles({tp.page_id for tp in page if tp.page_id})
    visits: list[Visit] = []
    for tp in page:
        entry = Entry(
            touchpoint=tp,
            label=kind_label(tp.kind),
            page_title=titles.get(tp.page_id, "") if tp.page_id else "",
            anonymous=is_anonymous(tp, contact, moments),
        )
        # A new group where the session changes (consecutive session-less rows share one).
        if not visits or visits[-1].session != tp.session:
            visits.append(Visit(session=tp.session))
        visits[-1].entries.append(entry)
    timeline = Timeline(visits=visits, kinds=contact_kinds(contact), has_previous=key is not None)
    if more:
        timeline.next_cursor = encode_cursor(page[-1].occurred_at, page[-1].pk, ORDER)
    return timeline


def _titles(page_ids: set[int]) -> dict[int, str]:
    from wagtail.models import Page

    if not page_ids:
        return {}
    return dict(Page.objects.filter(pk__in=page_ids).values_list("pk", "title"))
