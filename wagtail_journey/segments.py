"""Segments: compile rules to one queryset, materialise membership.

- :func:`compile_segment` turns AND/OR groups of rules into one ``Q`` on Contact.
- :func:`rebuild_segment` applies only the difference between the stored and
  the computed membership, in two set-based statements (INSERT ... SELECT and
  DELETE), and records ``segment_entered``/``segment_left`` for the changes.
- :func:`update_contact_segments` re-tests one contact against every dynamic
  segment in one query (the deferred ``segments`` reaction).
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable
from contextlib import nullcontext

from django.db import DatabaseError, connection, transaction
from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from wagtail_journey.events import dispatch, reaction
from wagtail_journey.identity import normalize_email
from wagtail_journey.models import Contact, Segment, SegmentMembership, Touchpoint
from wagtail_journey.segment_rules import RuleError, compile_rule

logger = logging.getLogger(__name__)

ENTERED, LEFT = "segment_entered", "segment_left"
# Matches no contact yet compiles everywhere (pk__in=[] raises EmptyResultSet).
NOTHING = Q(pk__isnull=True)


def compile_rules(rules, match: str) -> Q:
    """Compile a rules StreamValue (groups of rules) to one Q; raises RuleError."""
    groups = []
    for group in rules or []:
        value = group.value
        parts = [compile_rule(child.block_type, child.value) for child in value["rules"]]
        if not parts:
            continue
        q = parts[0]
        for part in parts[1:]:
            q = (q | part) if value["match"] == "any" else (q & part)
        groups.append(q)
    if not groups:
        return NOTHING
    q = groups[0]
    for part in groups[1:]:
        q = (q | part) if match == "any" else (q & part)
    return q


def compile_segment(segment: Segment) -> Q:
    return compile_rules(segment.rules, segment.match)


def segment_queryset(segment: Segment) -> QuerySet:
    """The contacts of ``segment``: computed for dynamic, stored for static ones."""
    if segment.is_dynamic:
        return Contact.objects.filter(compile_segment(segment))
    return Contact.objects.filter(segment_memberships__segment=segment)


def segment_problem(segment: Segment) -> str:
    """Why the segment cannot be computed ('' when fine), for the admin."""
    if not segment.is_dynamic:
        return ""
    try:
        compile_segment(segment)
    except RuleError as exc:
        return str(exc)
    return ""


def refresh_member_counts(segment_ids: Iterable[int], **also) -> None:
    """Recount the stored ``member_count`` of these segments in one UPDATE, from
    the membership rows themselves (so it cannot drift from the member list)."""
    members = (
        SegmentMembership.objects.filter(segment=OuterRef("pk"))
        .order_by()
        .values("segment")
        .annotate(n=Count("pk"))
        .values("n")
    )
    Segment.objects.filter(pk__in=list(segment_ids)).update(
        member_count=Coalesce(Subquery(members, output_field=IntegerField()), Value(0)), **also
    )


def preview_count(rules, match: str) -> int:
    """Live count while editing (one COUNT query)."""
    return Contact.objects.filter(compile_rules(rules, match)).count()


# --- recording enter/leave ----------------------------------------------------------


def _record_changes(segment: Segment, kind: str, contact_ids: list[int], when) -> None:
    """Record one touchpoint per changed contact in bulk; their reactions (flows)
    run after commit in worker tasks (chunks), never re-running ``segments``."""
    if not contact_ids:
        return
    props = {"segment": segment.pk, "name": segment.name}
    made = Touchpoint.objects.bulk_create(
        [
            Touchpoint(kind=kind, occurred_at=when, contact_id=c, properties=props)
            for c in contact_ids
        ],
        batch_size=2000,
    )
    _enqueue_reactions([tp.pk for tp in made])


def _enqueue_reactions(ids: list[int]) -> None:
    def enqueue() -> None:
        from django_q.tasks import async_task

        for start in range(0, len(ids), 500):
            async_task(
                "wagtail_journey.segments.run_change_reactions",
                ids[start : start + 500],
                group="wagtail_journey.reactions",
            )

    # robust: a broker that is down never fails the request that committed; the
    # scheduled segment rebuild catches up what the reactions missed.
    transaction.on_commit(enqueue, robust=True)


def run_change_reactions(touchpoint_ids: Iterable[int]) -> None:
    """Worker: the reactions of bulk-recorded segment touchpoints."""
    for tp in Touchpoint.objects.filter(pk__in=list(touchpoint_ids)).select_related("contact"):
        dispatch(tp, chain=("segments",))


# --- full rebuild -------------------------------------------------------------------


def _subquery_sql(q: Q) -> tuple[str, tuple]:
    from wagtail_journey.privacy.restriction import processable

    # Restricted, profiling-objecting and erased contacts are no rule's members
    # (the rebuild takes them out): privacy/restriction.py.
    qs = Contact.objects.filter(q).filter(processable()).order_by().values("id")
    sql, params = qs.query.sql_with_params()
    return sql, tuple(params)


def database_problem(exc: Exception) -> str:
    """What editors read when the database refused a segment's query."""
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return _("The database could not evaluate these rules (%(error)s).") % {"error": first_line}


def record_problem(segment_id: int, problem: str) -> None:
    """Store why a segment cannot be computed: the listing and the edit screen
    show it, and incremental updates skip the segment until it is saved or
    rebuilt successfully."""
    logger.warning("Segment %s cannot be computed: %s", segment_id, problem)
    Segment.objects.filter(pk=segment_id).update(error=problem[:2000])


def rebuild_segment(segment: Segment, *, record: bool = True) -> tuple[int, int]:
    """Apply the difference between stored and computed membership; returns
    (entered, left). Raises RuleError (and stores it on the segment) when a
    rule cannot be compiled or the database refuses the query; nothing of the
    rebuild is kept then."""
    if not segment.is_dynamic:
        return 0, 0
    try:
        return _rebuild(segment, record=record)
    except RuleError as exc:
        record_problem(segment.pk, str(exc))
        raise
    except DatabaseError as exc:
        problem = database_problem(exc)
        record_problem(segment.pk, problem)
        raise RuleError(problem) from exc


def _rebuild(segment: Segment, *, record: bool) -> tuple[int, int]:
    now = timezone.now()
    q = compile_segment(segment)
    sql, params = _subquery_sql(q)
    qn = connection.ops.quote_name
    m = qn(SegmentMembership._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        # Interpolated: quoted table names and the SQL Django compiled for the
        # rules (its values stay parameters).
        cursor.execute(
            f"""
            INSERT INTO {m} (segment_id, contact_id, entered_at)
            SELECT %s, s.id, %s FROM ({sql}) s
            WHERE NOT EXISTS (
                SELECT 1 FROM {m} x WHERE x.segment_id = %s AND x.contact_id = s.id)
            ON CONFLICT DO NOTHING
            RETURNING contact_id
            """,  # noqa: S608
            (segment.pk, now, *params, segment.pk),
        )
        entered = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            f"""
            DELETE FROM {m}
            WHERE segment_id = %s
              AND NOT EXISTS (SELECT 1 FROM ({sql}) s WHERE s.id = {m}.contact_id)
            RETURNING contact_id
            """,  # noqa: S608
            (segment.pk, *params),
        )
        left = [row[0] for row in cursor.fetchall()]
        if record:
            _record_changes(segment, ENTERED, entered, now)
            _record_changes(segment, LEFT, left, now)
        refresh_member_counts([segment.pk], last_rebuilt_at=now, error="")
    return len(entered), len(left)


def rebuild_all_segments() -> dict[int, tuple[int, int] | str]:
    """django-q2 schedule entry point: rebuild every active dynamic segment."""
    results: dict[int, tuple[int, int] | str] = {}
    for segment in Segment.objects.filter(active=True, kind=Segment.Kind.DYNAMIC):
        try:
            results[segment.pk] = rebuild_segment(segment)
        except RuleError as exc:  # recorded on the segment by rebuild_segment
            results[segment.pk] = str(exc)
        except Exception as exc:  # one segment never stops the others
            logger.exception("Segment %s cannot be rebuilt", segment.pk)
            record_problem(segment.pk, database_problem(exc))
            results[segment.pk] = str(exc)
    return results


#: Above this many contacts, saving a segment computes its members in a worker
#: task instead of the editor's request.
INLINE_REBUILD_MAX_CONTACTS = 20_000


class Materialised:
    """What saving a segment did about its members, for the admin's message."""

    def __init__(self, *, deferred: bool = False, problem: str = ""):
        self.deferred, self.problem = deferred, problem


def materialise_segment(segment: Segment) -> Materialised:
    """Bring a just-saved dynamic segment's members up to date: inline for a
    small site, in a django-q2 task (after commit) for a large one."""
    if not segment.is_dynamic:
        return Materialised()
    if Contact.objects.count() > INLINE_REBUILD_MAX_CONTACTS:
        pk = segment.pk

        def enqueue() -> None:
            from django_q.tasks import async_task

            async_task("wagtail_journey.segments.rebuild_segment_task", pk)

        transaction.on_commit(enqueue)
        return Materialised(deferred=True)
    try:
        rebuild_segment(segment)
    except RuleError as exc:
        return Materialised(problem=str(exc))
    return Materialised()


def rebuild_segment_task(segment_id: int) -> tuple[int, int] | str:
    """Worker: rebuild one segment (a problem is recorded on it, not raised)."""
    segment = Segment.objects.filter(pk=segment_id).first()
    if segment is None:
        return "gone"
    try:
        return rebuild_segment(segment)
    except RuleError as exc:
        return str(exc)


# --- incremental --------------------------------------------------------------------

# Compiled rules per segment id, keyed by the segment's updated_at. Rules use
# the database's clock for relative dates, so a compiled Q stays valid.
_compiled: dict[int, tuple[object, Q]] = {}


def compiled_segments() -> dict[int, Q]:
    """Every active dynamic segment's Q: one query, plus one per changed segment."""
    current = dict(
        Segment.objects.filter(active=True, kind=Segment.Kind.DYNAMIC, error="").values_list(
            "pk", "updated_at"
        )
    )
    stale = [pk for pk, updated in current.items() if _compiled.get(pk, (None,))[0] != updated]
    if stale:
        for segment in Segment.objects.filter(pk__in=stale):
            try:
                _compiled[segment.pk] = (segment.updated_at, compile_segment(segment))
            except RuleError as exc:
                record_problem(segment.pk, str(exc))
                current.pop(segment.pk, None)
    return {pk: _compiled[pk][1] for pk in current if pk in _compiled}


_SENTINEL = -7_777_777_777
# The SQL testing one contact against every segment, compiled once per set of
# segment versions: compiling 50 segments in the ORM costs more than running
# them, and an identical statement text lets psycopg prepare it.
_test_sql: tuple = (None, "", [], 0)


def _membership_sql(compiled: dict[int, Q]) -> tuple[str, list, int]:
    global _test_sql
    key = tuple((pk, _compiled[pk][0]) for pk in compiled)
    cached = _test_sql  # one read: another thread may replace it meanwhile
    if cached[0] != key:
        qs = (
            Contact.objects.filter(pk=_SENTINEL)
            .order_by()
            .values(
                **{
                    f"s{pk}": ExpressionWrapper(q, output_field=BooleanField())
                    for pk, q in compiled.items()
                }
            )
        )
        sql, params = qs.query.sql_with_params()
        params = list(params)
        cached = _test_sql = (key, sql, params, params.index(_SENTINEL))
    return cached[1], list(cached[2]), cached[3]


def _test_contact(compiled: dict[int, Q], contact_id: int) -> dict[str, object] | None:
    """One row: for each segment, whether the contact matches (None: no contact)."""
    sql, params, pos = _membership_sql(compiled)
    params[pos] = contact_id
    # Inside a caller's transaction a failure must not abort it: a savepoint
    # then (in autocommit, as in the worker, a failed statement leaves nothing).
    guard = transaction.atomic() if connection.in_atomic_block else nullcontext()
    with guard, connection.cursor() as cursor:
        cursor.execute(sql, params)
        values = cursor.fetchone()
        names = [col[0] for col in cursor.description]
    return None if values is None else dict(zip(names, values, strict=True))


def _test_contact_each(compiled: dict[int, Q], contact_id: int) -> tuple[set[int], set[int]]:
    """The slow path after the combined query failed: each segment on its own,
    so the one the database refuses is recorded and the others still apply.
    Returns (segments matched, segments that failed)."""
    should: set[int] = set()
    failed: set[int] = set()
    for pk, q in compiled.items():
        try:
            with transaction.atomic():
                if Contact.objects.filter(q, pk=contact_id).exists():
                    should.add(pk)
        except DatabaseError as exc:
            record_problem(pk, database_problem(exc))
            failed.add(pk)
    return should, failed


def update_contact_segments(contact_id: int) -> tuple[list[int], list[int]]:
    """Re-test one contact against every dynamic segment; returns (entered, left)
    segment ids. A fixed number of queries, whatever the number of contacts
    (more only when the database refuses a segment, which is then recorded)."""
    compiled = compiled_segments()
    if not compiled:
        return [], []
    try:
        row = _test_contact(compiled, contact_id)
    except DatabaseError:
        logger.warning("Testing contact %s against all segments failed; one by one", contact_id)
        if not Contact.objects.filter(pk=contact_id).exists():
            return [], []
        should, failed = _test_contact_each(compiled, contact_id)
        compiled = {pk: q for pk, q in compiled.items() if pk not in failed}
    else:
        if row is None:
            return [], []
        should = {pk for pk in compiled if row[f"s{pk}"]}
    current = set(
        SegmentMembership.objects.filter(
            contact_id=contact_id, segment_id__in=list(compiled)
        ).values_list("segment_id", flat=True)
    )
    enter, leave = sorted(should - current), sorted(current - should)
    if not (enter or leave):
        return [], []
    now = timezone.now()
    with transaction.atomic():
        if enter:
            SegmentMembership.objects.bulk_create(
                [
                    SegmentMembership(segment_id=s, contact_id=contact_id, entered_at=now)
                    for s in enter
                ],
                ignore_conflicts=True,
            )
        if leave:
            SegmentMembership.objects.filter(contact_id=contact_id, segment_id__in=leave).delete()
        refresh_member_counts([*enter, *leave])
        _record_contact_changes(contact_id, enter, leave, now)
    return enter, leave


def _record_contact_changes(contact_id, enter, leave, now) -> None:
    """One INSERT for all of a contact's enter/leave touchpoints (a fixed number
    of queries however many segments changed); reactions follow in a task."""
    names = dict(Segment.objects.filter(pk__in=[*enter, *leave]).values_list("pk", "name"))
    made = Touchpoint.objects.bulk_create(
        [
            Touchpoint(
                kind=kind,
                occurred_at=now,
                contact_id=contact_id,
                properties={"segment": pk, "name": names.get(pk, "")},
            )
            for kind, ids in ((ENTERED, enter), (LEFT, leave))
            for pk in ids
        ]
    )
    _enqueue_reactions([tp.pk for tp in made])


def segments_of_history(contact: Contact, touchpoints: list[Touchpoint]) -> None:
    """An identified visitor's history joined the contact: re-test it once."""
    update_contact_segments(contact.pk)


@reaction("segments", order=40, deferred=True, needs_contact=True, history=segments_of_history)
def segments_reaction(touchpoint: Touchpoint) -> None:
    if touchpoint.contact_id is None or touchpoint.kind in (ENTERED, LEFT):
        return
    update_contact_segments(touchpoint.contact_id)


# --- static segments ----------------------------------------------------------------


def add_static_members(segment: Segment, contact_ids: Iterable[int]) -> int:
    now = timezone.now()
    ids = list(contact_ids)
    with transaction.atomic():
        existing = set(
            SegmentMembership.objects.filter(segment=segment, contact_id__in=ids).values_list(
                "contact_id", flat=True
            )
        )
        new = [c for c in dict.fromkeys(ids) if c not in existing]
        SegmentMembership.objects.bulk_create(
            [SegmentMembership(segment=segment, contact_id=c, entered_at=now) for c in new],
            ignore_conflicts=True,
            batch_size=2000,
        )
        _record_changes(segment, ENTERED, new, now)
        refresh_member_counts([segment.pk])
    return len(new)


def remove_static_members(segment: Segment, contact_ids: Iterable[int]) -> int:
    now = timezone.now()
    ids = list(contact_ids)
    with transaction.atomic():
        gone = list(
            SegmentMembership.objects.filter(segment=segment, contact_id__in=ids).values_list(
                "contact_id", flat=True
            )
        )
        SegmentMembership.objects.filter(segment=segment, contact_id__in=gone).delete()
        _record_changes(segment, LEFT, gone, now)
        refresh_member_counts([segment.pk])
    return len(gone)


def import_static_csv(segment: Segment, data: str | bytes) -> tuple[int, list[str]]:
    """Add the contacts whose emails are in the CSV (first column, or a column
    named "email"); returns (added, emails not found). Unknown emails are not
    created: a static segment is a pick of known contacts."""
    if isinstance(data, bytes):
        data = data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(data)))
    if not rows:
        return 0, []
    header = [c.strip().lower() for c in rows[0]]
    col = header.index("email") if "email" in header else 0
    if "email" in header:
        rows = rows[1:]
    emails = list(
        dict.fromkeys(normalize_email(r[col]) for r in rows if len(r) > col and r[col].strip())
    )
    found: dict[str, int] = {}
    for start in range(0, len(emails), 5000):
        chunk = emails[start : start + 5000]
        found.update(Contact.objects.filter(email__in=chunk).values_list("email", "pk"))
    added = add_static_members(segment, found.values())
    return added, [e for e in emails if e not in found]
