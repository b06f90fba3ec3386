"""record(), the one way in, and the registry of reactions that follow it.

A reaction is a small function ``f(touchpoint)`` registered with
:func:`reaction`. Reactions run in ``order``; inline ones inside record()'s
transaction, deferred ones in a django-q2 worker after commit. A reaction may
call record() itself (``score_changed``, ``stage_changed`` ...); the derived
touchpoint runs every reaction except those already on the causal chain, so
data flows one way and nothing loops.

A reaction may also name a ``history`` function ``h(contact, touchpoints)``:
the batch form of the reaction for touchpoints that join a contact's timeline
all at once, when an anonymous visitor is identified (:func:`run_history`).
Its earlier page views are then scored, staged and segmented as if they had
been the contact's, in a bounded number of queries instead of one reaction
run per touchpoint.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, Q, Value, When
from django.utils import timezone

from wagtail_journey.identity import get_or_create_contact, identify_visitor
from wagtail_journey.models import Contact, Touchpoint, Visitor

logger = logging.getLogger(__name__)

KIND_RE = re.compile(r"^[a-z][a-z0-9_.:-]{0,63}$")

ReactionFunc = Callable[[Touchpoint], None]
HistoryFunc = Callable[[Contact, list[Touchpoint]], None]

#: Touchpoints the system records about a contact (not something the contact
#: did): they do not count as activity and are never scored.
SYSTEM_KINDS = frozenset(
    {
        "score_changed",
        "stage_changed",
        "segment_entered",
        "segment_left",
        "tag_added",
        "tag_removed",
        "identified",
        # Rights requests (privacy/restriction.py): a record, not activity.
        "subject_restricted",
        "subject_unrestricted",
        "subject_objected",
        "subject_objection_withdrawn",
    }
)

#: Every kind the server itself records: the browser may never send one (the
#: collect endpoint refuses them). Add a new server-side kind here, or under one
#: of the reserved prefixes below (``email_bounced`` is covered by ``email_``).
SERVER_KINDS = SYSTEM_KINDS | frozenset(
    {
        "page_view",
        "form_submitted",
        "unsubscribed",
        "subject_erased",
        # A personal referral link followed (flows/referrals.py): only the
        # link's signed token may record it, never a browser's beacon.
        "referral",
    }
)
#: Families of server-side kinds, reserved as a whole (present and future).
SERVER_KIND_PREFIXES = (
    "page_view",
    "form_",
    "email_",
    "order_",
    "cart_",
    "checkout_",
    "shop_",
    "score_",
    "stage_",
    "segment_",
    "tag_",
    "flow_",
    "consent_",
    "subject_",
)


def is_server_kind(kind: str) -> bool:
    """True for a kind only the server records (never accepted from a browser)."""
    return kind in SERVER_KINDS or kind.startswith(SERVER_KIND_PREFIXES)


#: Touchpoint property (``True``) of events that look machine-made: a mail
#: scanner's click, a proxy's open. They are recorded, for the record and the
#: statistics, but no reaction runs for them (no score, stage, segment or
#: flow) and segment rules and rebuilds do not count them.
MACHINE_MADE = "machine"


#: The touchpoints that are not machine-made, for querysets (a NULL column or
#: key must not drop a row, so not ``exclude(properties__machine=True)``).
NOT_MACHINE_MADE = Q(properties__isnull=True) | ~Q(properties__has_key=MACHINE_MADE)


def is_machine_made(touchpoint: Touchpoint) -> bool:
    return bool(touchpoint.properties and touchpoint.properties.get(MACHINE_MADE))


@dataclass(frozen=True)
class Reaction:
    name: str
    func: ReactionFunc
    order: int
    deferred: bool
    kinds: frozenset[str] | None
    needs_contact: bool = False
    history: HistoryFunc | None = None
    #: Derives something about the person (score, stage, segment, flow): skipped
    #: for contacts who are restricted, object to profiling or were erased.
    profiling: bool = True

    def applies_to(self, kind: str, has_contact: bool = True) -> bool:
        if self.needs_contact and not has_contact:
            return False
        return self.kinds is None or kind in self.kinds


_registry: dict[str, Reaction] = {}
# Names of the reactions currently running in this context (the causal chain).
_chain: ContextVar[tuple[str, ...]] = ContextVar("wagtail_journey_chain", default=())


def reaction(
    name: str | None = None,
    *,
    order: int = 100,
    deferred: bool = False,
    kinds: Iterable[str] | None = None,
    needs_contact: bool = False,
    history: HistoryFunc | None = None,
    profiling: bool = True,
) -> Callable[[ReactionFunc], ReactionFunc]:
    """Register ``func`` as a reaction to touchpoints (of ``kinds``, or all).

    ``deferred=True`` runs it in a worker after the recording transaction
    commits; use it for anything heavier than a few indexed statements.
    ``needs_contact=True`` skips anonymous touchpoints; for a deferred
    reaction that also means no task is queued for them, which keeps an
    anonymous page view at its one INSERT.
    ``history``: the batch form, run once for an identified visitor's history
    (see :func:`run_history`); without it the reaction ignores that history.
    ``profiling=True`` (the default): the reaction processes the person and is
    skipped while the contact is restricted, objects to profiling or was
    erased (privacy/restriction.py); only pure book-keeping passes False.
    Registering the same name again replaces the earlier reaction.
    """

    def decorator(func: ReactionFunc) -> ReactionFunc:
        key = name or f"{func.__module__}.{func.__qualname__}"
        _registry[key] = Reaction(
            key,
            func,
            order,
            deferred,
            frozenset(kinds) if kinds is not None else None,
            needs_contact,
            history,
            profiling,
        )
        return func

    return decorator


def unregister(name: str) -> None:
    _registry.pop(name, None)


def reactions() -> list[Reaction]:
    """The registered reactions in the order they run."""
    return sorted(_registry.values(), key=lambda r: (r.order, r.name))


def record(
    kind: str,
    *,
    contact: Contact | None = None,
    email: str | None = None,
    visitor: Visitor | None = None,
    page: Any = None,
    occurred_at: datetime | None = None,
    session: int | None = None,
    device: int | None = None,
    journey_stage: str = "",
    utm: Mapping[str, str] | None = None,
    properties: Mapping[str, Any] | None = None,
    dedupe_key: str | None = None,
    identify: bool | None = None,
) -> Touchpoint:
    """Store one touchpoint and run its reactions. The only writer of touchpoints.

    Who: a ``contact``, an ``email`` (the contact is found or created), a
    ``visitor``, or several. A visitor already identified lends its contact
    to the touchpoint. Whether a visitor given with a contact is joined to it
    (its anonymous history moved onto the contact) follows the identity rule
    (identity.py): with ``identify=None`` (the default) only when ``email``
    created the contact in this call, or the visitor is already that
    contact's; ``identify=True`` when the caller vouches that the browser
    proved control of the address (identity.prove_control) or created the
    contact itself; ``identify=False`` never. A touchpoint links a browser and
    a contact only when the browser is that contact's: otherwise it is
    recorded for the contact without the visitor.

    ``dedupe_key`` makes the call idempotent: if a touchpoint with that key
    exists, it is returned (``is_new`` False) and no reaction runs again.

    An ``audience_only`` visitor (exempt mode, no analytics consent) is never
    combined with a person: alone, its touchpoint is marked ``audience_only``
    and no reaction runs for it; with a contact or email, the touchpoint is
    recorded for the contact without the visitor.
    """
    if not KIND_RE.match(kind or ""):
        raise ValueError(f"Invalid touchpoint kind: {kind!r}")
    if (
        visitor is not None
        and visitor.audience_only
        and contact is None
        and not email
        and not dedupe_key
        and not connection.in_atomic_block
    ):
        # An audience-only touchpoint alone (an exempt-mode page view): no
        # contact, no reaction, nothing deferred, so its one INSERT needs no
        # BEGIN/COMMIT around it (two round trips less per page view). Inside
        # a caller's transaction the savepoint below is kept.
        touchpoint = Touchpoint.objects.create(
            **_fields(
                kind, occurred_at, None, visitor, page, session, device, True,
                journey_stage, utm, properties, None,
            )
        )  # fmt: skip
        touchpoint.is_new = True
        return touchpoint
    audience_only = False
    with transaction.atomic():
        if contact is None and email:
            contact, created = get_or_create_contact(email)
            if identify is None and created:
                identify = True
        if contact is not None and contact.erased_at is not None:
            # An erased person stays erased: a late event (an old email's click)
            # is kept as an anonymous fact, joined to no browser.
            contact, visitor, identify = None, None, False
        if visitor is not None and visitor.audience_only:
            if contact is None:
                audience_only = True
            else:
                visitor = None
        elif visitor is not None:
            linked = _current_contact_id(visitor)
            if contact is None:
                contact = visitor.contact if linked else None
            elif identify or (identify is None and linked == contact.pk):
                # The touchpoint recorded below re-runs these deferred
                # reactions for the contact: the history need not queue them.
                identify_visitor(visitor, contact, followed_by=_deferred_names(kind))
            elif linked != contact.pk:
                # Not this browser's contact (yet): a form for someone's
                # address proves nothing about who typed it.
                visitor = None
        fields = _fields(
            kind, occurred_at, contact, visitor, page, session, device, audience_only,
            journey_stage, utm, properties, dedupe_key,
        )  # fmt: skip
        if dedupe_key:
            existing = Touchpoint.objects.filter(dedupe_key=dedupe_key).first()
            if existing is not None:
                existing.is_new = False
                return existing
            try:
                with transaction.atomic():
                    touchpoint = Touchpoint.objects.create(**fields)
            except IntegrityError:
                existing = Touchpoint.objects.get(dedupe_key=dedupe_key)
                existing.is_new = False
                return existing
        else:
            touchpoint = Touchpoint.objects.create(**fields)
        touchpoint.is_new = True
        _run(touchpoint, deferred=False, chain=_chain.get())
        _schedule_deferred(touchpoint)
    return touchpoint


def _fields(
    kind, occurred_at, contact, visitor, page, session, device, audience_only,
    journey_stage, utm, properties, dedupe_key,
) -> dict[str, Any]:  # fmt: skip
    return {
        "kind": kind,
        "occurred_at": occurred_at or timezone.now(),
        "contact": contact,
        "visitor": visitor,
        "page": page,
        "session": session,
        "device": device,
        "audience_only": audience_only,
        "journey_stage": journey_stage or "",
        "utm": dict(utm) if utm else None,
        "properties": dict(properties) if properties else None,
        "dedupe_key": dedupe_key,
    }


def _current_contact_id(visitor: Visitor) -> int | None:
    """The contact id of ``visitor`` as committed now, not as the caller loaded it.

    A request holds the Visitor it read from the cookie when it started; the
    visitor may have been identified since. The link is read under a row lock:
    identify_visitor() locks that row before it moves the anonymous history,
    so an identification either commits before this read (and is seen here) or
    waits for this transaction and then moves this touchpoint with the rest.
    """
    if visitor.contact_id is not None:
        return visitor.contact_id  # already identified: a stale link is harmless here
    no_key = connection.features.has_select_for_no_key_update
    rows = (
        Visitor.objects.select_for_update(no_key=no_key)
        .filter(pk=visitor.pk)
        .values_list("contact_id", flat=True)[:1]
    )  # one row by primary key: no ORDER BY (first() would build one)
    contact_id = next(iter(rows), None)
    if contact_id is not None:
        visitor.contact_id = contact_id
    return contact_id


def _run(touchpoint: Touchpoint, *, deferred: bool, chain: tuple[str, ...]) -> None:
    if touchpoint.audience_only or is_machine_made(touchpoint):
        return
    for r in reactions():
        if r.deferred != deferred or r.name in chain:
            continue
        if not r.applies_to(touchpoint.kind, touchpoint.contact_id is not None):
            continue
        if r.profiling and _processing_stopped(touchpoint):
            continue
        token = _chain.set((*chain, r.name))
        try:
            r.func(touchpoint)
        finally:
            _chain.reset(token)


_STOPPED = "_wj_processing_stopped"


def _processing_stopped(touchpoint: Touchpoint) -> bool:
    """Is the touchpoint's contact restricted, objecting to profiling or erased?

    Read once per touchpoint, and only when a profiling reaction would run:
    from the contact the caller passed (record()), or one query by key
    (record_batch() sets it for a whole batch in one).
    """
    if touchpoint.contact_id is None:
        return False
    stopped = getattr(touchpoint, _STOPPED, None)
    if stopped is None:
        from wagtail_journey.privacy.restriction import processing_stopped, stopped_q

        if Touchpoint.contact.is_cached(touchpoint):
            stopped = processing_stopped(touchpoint.contact)
        else:
            stopped = Contact.objects.filter(pk=touchpoint.contact_id).filter(stopped_q()).exists()
        setattr(touchpoint, _STOPPED, stopped)
    return stopped


def _deferred_names(kind: str, has_contact: bool = True) -> frozenset[str]:
    """The deferred reactions a touchpoint of ``kind`` recorded now would queue."""
    chain = _chain.get()
    return frozenset(
        r.name
        for r in reactions()
        if r.deferred and r.name not in chain and r.applies_to(kind, has_contact)
    )


def _schedule_deferred(touchpoint: Touchpoint) -> None:
    if touchpoint.audience_only or is_machine_made(touchpoint):
        return
    chain = _chain.get()
    pending = _deferred_names(touchpoint.kind, touchpoint.contact_id is not None)
    if not pending:
        return

    def enqueue() -> None:
        from django_q.tasks import async_task

        async_task(
            "wagtail_journey.events.run_deferred",
            touchpoint.pk,
            chain,
            task_name=f"journey-reactions-{touchpoint.pk}",
            group="wagtail_journey.reactions",
            # One task per touchpoint: keep failures (django-q2 always saves
            # them) but not thousands of successes that would push other
            # tasks' results out of the cluster's save_limit.
            save=False,
        )

    # robust: a broker that is down never fails the request that committed; the
    # scheduled segment rebuild catches up what the reactions missed.
    transaction.on_commit(enqueue, robust=True)


def record_batch(items: list[Mapping[str, Any]]) -> list[Touchpoint]:
    """The bulk form of record() for buffered tracking (tracking/buffer.py).

    ``items`` are page views and journey.js events made on the request path
    (short keys: kind, time, visitor, audience-only, page, session, device,
    stage, utm, properties). Call inside a transaction. Rows are inserted in
    bulk; the visitors' contact links are read under the same row lock as
    ``_current_contact_id`` takes, so a batch racing an identification is either
    seen by it or sees it; an item that names the contact its visitor had at
    the time keeps that contact. Items of visitors or contacts erased
    meanwhile are dropped (an erasure is not undone); a page deleted
    meanwhile is left out. Reactions then run per touchpoint,
    exactly as record() runs them; audience-only touchpoints have none.
    """
    from wagtail.models import Page

    if not items:
        return []
    no_key = connection.features.has_select_for_no_key_update
    visitors = dict(
        Visitor.objects.select_for_update(no_key=no_key)
        .filter(pk__in={i["v"] for i in items})
        .order_by("pk")  # one lock order for every worker: no deadlock
        .values_list("pk", "contact_id")
    )
    page_ids = {i["p"] for i in items if i.get("p")}
    pages = (
        set(Page.objects.filter(pk__in=page_ids).values_list("pk", flat=True)) if page_ids else ()
    )
    # The contact a visitor had when the event happened wins over today's link
    # (a shared browser identified as someone else since); an erased one drops
    # it. The contacts are locked now, in one order: the reactions lock them
    # one by one in touchpoint order, and two batches sharing contacts would
    # deadlock; this way the reactions' own locks are no-ops.
    wanted = {i.get("c") or visitors.get(i["v"]) for i in items if not i.get("a")} - {None}
    contacts = (
        set(
            Contact.objects.select_for_update()
            .filter(pk__in=wanted)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if wanted
        else set()
    )
    aware = settings.USE_TZ
    rows = []
    seen: dict[int, datetime] = {}
    for i in items:
        if i["v"] not in visitors or (i.get("c") and i["c"] not in contacts):
            continue
        when = datetime.fromtimestamp(i["t"], tz=UTC)
        if not aware:
            when = timezone.make_naive(when, timezone.get_default_timezone())
        audience_only = bool(i.get("a"))
        contact_id = None if audience_only else (i.get("c") or visitors[i["v"]])
        rows.append(
            Touchpoint(
                kind=i["k"],
                occurred_at=when,
                contact_id=contact_id,
                visitor_id=i["v"],
                page_id=i["p"] if i.get("p") in pages else None,
                session=i.get("s"),
                device=i.get("d"),
                audience_only=audience_only,
                journey_stage=i.get("j") or "",
                utm=i.get("u"),
                properties=i.get("x"),
            )
        )
        if i.get("n"):
            seen[i["v"]] = max(when, seen.get(i["v"], when))
    Touchpoint.objects.bulk_create(rows, batch_size=500)
    if contacts:
        from wagtail_journey.privacy.restriction import stopped_q

        stopped = set(
            Contact.objects.filter(pk__in=contacts).filter(stopped_q()).values_list("pk", flat=True)
        )
        for tp in rows:
            setattr(tp, _STOPPED, tp.contact_id in stopped)
    if seen:
        # A new session touches the visitor, as resolve() does unbuffered.
        Visitor.objects.filter(pk__in=seen).update(
            last_seen_at=Case(*(When(pk=pk, then=Value(t)) for pk, t in seen.items()))
        )
    chain = _chain.get()
    for touchpoint in rows:  # audience-only ones have no reaction (_run says so)
        touchpoint.is_new = True
        _run(touchpoint, deferred=False, chain=chain)
        _schedule_deferred(touchpoint)
    return rows


def dispatch(touchpoint: Touchpoint, chain: Iterable[str] = ()) -> None:
    """Run every reaction (inline, then deferred) of a touchpoint stored in bulk
    (segment rebuilds); ``chain`` names the reactions that must not run."""
    with transaction.atomic():
        _run(touchpoint, deferred=False, chain=tuple(chain))
        _run(touchpoint, deferred=True, chain=tuple(chain))


def run_deferred(touchpoint_id: int, chain: Iterable[str] = ()) -> None:
    """Worker entry point: run the deferred reactions of one touchpoint.

    Deferred reactions must be idempotent: a task may run twice.
    """
    touchpoint = Touchpoint.objects.filter(pk=touchpoint_id).select_related("contact").first()
    if touchpoint is None:  # erased meanwhile
        return
    with transaction.atomic():
        _run(touchpoint, deferred=True, chain=tuple(chain))


# --- history: touchpoints that join a contact's timeline at once ---------------------


def run_history(
    contact: Contact, touchpoints: list[Touchpoint], *, followed_by: Iterable[str] = ()
) -> None:
    """Run the reactions' ``history`` forms for ``touchpoints`` just attached to
    ``contact`` (an identified visitor's anonymous history, oldest first).

    Inline ones run now, in the caller's transaction and in reaction order,
    each on the touchpoints of the kinds it reacts to; deferred ones are queued
    as one worker task after commit, except those named in ``followed_by``:
    record() passes the deferred reactions that the touchpoint it is recording
    will run for the same contact anyway, so a contact-wide re-test (segments)
    happens once per identification, not twice. Derived touchpoints recorded
    here follow the causal chain as in record(). Audience-only touchpoints are
    never passed on (the exemption forbids combining them with a person).
    """
    touchpoints = [tp for tp in touchpoints if not tp.audience_only and not is_machine_made(tp)]
    if not touchpoints:
        return
    from wagtail_journey.privacy.restriction import processing_stopped

    stopped = processing_stopped(contact)
    chain = _chain.get()
    skip = set(followed_by)
    pending = []
    for r in reactions():
        if r.history is None or r.name in chain or (r.profiling and stopped):
            continue
        if r.deferred:
            if r.name not in skip and any(r.applies_to(tp.kind) for tp in touchpoints):
                pending.append(r.name)
            continue
        _run_history(r, contact, touchpoints, chain)
    if pending:
        ids = [tp.pk for tp in touchpoints]

        def enqueue() -> None:
            from django_q.tasks import async_task

            async_task(
                "wagtail_journey.events.run_deferred_history",
                contact.pk,
                ids,
                chain,
                pending,
                group="wagtail_journey.reactions",
                save=False,
            )

        # robust: a broker that is down never fails the request that committed.
        transaction.on_commit(enqueue, robust=True)


def run_deferred_history(
    contact_id: int, touchpoint_ids: list[int], chain: Iterable[str], names: Iterable[str]
) -> None:
    """Worker entry point: the deferred ``history`` forms named in ``names``."""
    contact = Contact.objects.filter(pk=contact_id).first()
    if contact is None:  # erased meanwhile
        return
    touchpoints = list(
        Touchpoint.objects.filter(pk__in=touchpoint_ids, contact_id=contact_id).order_by(
            "occurred_at", "id"
        )
    )
    wanted = set(names)
    from wagtail_journey.privacy.restriction import processing_stopped

    stopped = processing_stopped(contact)
    with transaction.atomic():
        for r in reactions():
            if r.profiling and stopped:
                continue
            if r.name in wanted and r.history is not None:
                _run_history(r, contact, touchpoints, tuple(chain))


def _run_history(
    r: Reaction, contact: Contact, touchpoints: list[Touchpoint], chain: tuple[str, ...]
) -> None:
    mine = [tp for tp in touchpoints if r.applies_to(tp.kind)]
    if not mine:
        return
    token = _chain.set((*chain, r.name))
    try:
        r.history(contact, mine)
    finally:
        _chain.reset(token)
