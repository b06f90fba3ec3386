"""Score decay: one DecayRun row and one UPDATE of the contacts per run.

Why not a ledger row per decayed contact: over a million contacts that INSERT
cost 1.8-2.6x the bare UPDATE (issue 5 allows 1.2x). Instead the same UPDATE
that lowers ``score`` also adds the points to ``Contact.decay_total``,
appends the run's id to ``Contact.decay_runs`` and sets
``Contact.last_decay_run``; a few bytes in a row it rewrites anyway. Each
rule/manual ledger row carries the last run applied to its contact when it was
written (``ScoreChange.after_decay_run``), so:

- a contact's share of each run is derived by replaying its ledger sums
  against its runs (:func:`decay_shares`, for the contact page);
- the rebuild replays every run in order, one set-based UPDATE per run
  (:func:`replay_decay`), and gets the incremental scores back.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Max, Min, QuerySet, Sum
from django.utils import timezone

from wagtail_journey.conf import journey_settings
from wagtail_journey.models import Contact, DecayRun, ScoreChange

logger = logging.getLogger(__name__)


def decay_config() -> dict | None:
    """SCORE_DECAY, checked (None when decay is off)."""
    cfg = journey_settings.SCORE_DECAY
    if not cfg:
        return None
    _check(cfg)
    return cfg


def _check(cfg: dict) -> tuple[str, int, int | None]:
    """(mode, days, points) of a decay configuration, or ValueError."""
    mode = cfg.get("mode")
    if mode not in DecayRun.Mode.values or int(cfg.get("days", 0)) <= 0:
        raise ValueError(f"Invalid SCORE_DECAY: {cfg!r}")
    if mode == DecayRun.Mode.HALVE:
        return mode, int(cfg["days"]), None
    points = int(cfg.get("points", 0))
    if points <= 0:
        raise ValueError("SCORE_DECAY subtract needs positive 'points'")
    return mode, int(cfg["days"]), points


def decay_period(cfg: dict, now: datetime) -> str:
    """The run's idempotency key: configuration and ``days``-long time bucket."""
    days = int(cfg["days"])
    bucket = int(now.timestamp() // (days * 86400))
    return f"{cfg['mode']}:{days}:{cfg.get('points', '')}:{bucket}"


def _taken_sql(mode: str, points: int | None, x: str) -> str:
    """SQL for the points (>= 0) a run takes from a positive score ``x``.

    Only integers and column names are interpolated. Integer division
    truncates on both SQLite and PostgreSQL, like ``//`` for positive scores
    (DecayRun.share_of is the Python twin).
    """
    if mode == DecayRun.Mode.HALVE:
        return f"({x} - {x} / 2)"
    return f"(CASE WHEN {x} < {int(points)} THEN {x} ELSE {int(points)} END)"


def apply_decay(now: datetime | None = None, cfg: dict | None = None) -> int:
    """Decay the scores of inactive contacts; returns how many contacts decayed.

    One DecayRun row and one UPDATE with the hand-written WHERE plus "not yet
    decayed in this period" (``last_decay_run`` older than the period's first
    run): a contact decays once per period however often this runs, and a
    run that decays nobody deletes its row. Runs are serialised (a table lock
    on PostgreSQL, the write lock on SQLite), so two workers at once cannot
    both decay a contact.
    """
    cfg = cfg or decay_config()
    if not cfg:
        return 0
    now = now or timezone.now()
    mode, days, points = _check(cfg)
    period = decay_period(cfg, now)
    qn = connection.ops.quote_name
    contact_t, run_t = qn(Contact._meta.db_table), qn(DecayRun._meta.db_table)
    taken = _taken_sql(mode, points, "score")
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Readers go on; a concurrent run waits for this one's commit and
            # then sees its rows (READ COMMITTED: a new snapshot per statement).
            cursor.execute(f"LOCK TABLE {run_t} IN EXCLUSIVE MODE")  # noqa: S608
        # Written first: on SQLite this takes the write lock before any read.
        run = DecayRun.objects.create(
            period=period,
            mode=mode,
            days=days,
            points=points,
            cutoff=now - timedelta(days=days),
            ran_at=now,
        )
        first = DecayRun.objects.filter(period=period).aggregate(pk=Min("pk"))["pk"]
        cursor.execute(
            f"""
            UPDATE {contact_t}
            SET score = score - {taken}, decay_total = decay_total - {taken},
                decay_runs = decay_runs || %s, last_decay_run = %s
            WHERE score > 0 AND COALESCE(last_activity_at, created_at) < %s
              AND last_decay_run < %s
              AND restricted_at IS NULL AND objects_to_profiling_at IS NULL
              AND erased_at IS NULL
            """,  # noqa: S608 - quoted table name and integers only
            # Restricted and profiling-objecting contacts are not processed
            # (privacy/restriction.py): their score stays as it was.
            [f",{run.pk}", run.pk, run.cutoff, first],
        )
        decayed = cursor.rowcount
        if decayed:
            DecayRun.objects.filter(pk=run.pk).update(contacts=decayed)
        else:
            run.delete()
    return decayed


def run_decay() -> int:
    """django-q2 schedule entry point (idempotent)."""
    n = apply_decay()
    logger.info("Score decay: %s contacts", n)
    return n


def ledger_sums(contact: Contact) -> list[tuple[int, int]]:
    """(after_decay_run, sum of deltas) of the contact's ledger rows: one query."""
    return list(
        ScoreChange.objects.filter(contact=contact)
        .order_by()
        .values("after_decay_run")
        .annotate(s=Sum("delta"))
        .values_list("after_decay_run", "s")
    )


def decay_shares(
    contact: Contact, sums: list[tuple[int, int]] | None = None
) -> list[tuple[DecayRun, int]]:
    """Each run that touched ``contact`` with the points (<= 0) it took, oldest
    first, replayed from the contact's ledger sums (:func:`ledger_sums`)."""
    ids = contact.decay_run_ids
    if not ids:
        return []
    runs = DecayRun.objects.in_bulk(ids)
    sums = ledger_sums(contact) if sums is None else sums
    shares, decayed = [], 0
    for k in ids:
        if k not in runs:
            continue
        share = runs[k].share_of(sum(s for stamp, s in sums if stamp < k) + decayed)
        decayed += share
        shares.append((runs[k], share))
    return shares


def _scope(alias: str, contact_ids: list[int] | None) -> tuple[str, list[int]]:
    if contact_ids is None:
        return "", []
    marks = ", ".join(["%s"] * len(contact_ids)) or "NULL"
    return f" AND {alias}.id IN ({marks})", list(contact_ids)


def lock_for_rebuild() -> None:
    """Serialise a rebuild (:func:`replay_decay` and the score sync, the rule
    replay) with live scoring and decay runs; call it first in the rebuild's
    transaction, before anything is read.

    Without it, on PostgreSQL, a page view scored while the replay deletes the
    rule rows survives and the replay's INSERT breaks the unique (rule,
    touchpoint); rows committed meanwhile are re-stamped as replayed; and a
    run committing between the read of the runs and the UPDATEs is undone.

    The locks are taken in the order every writer takes them, so nothing
    deadlocks: the run table as :func:`apply_decay` takes it (a run waits, then
    sees the rebuilt scores), then the contacts, then the ledger. Live scoring
    locks a contact row before it writes the ledger; a rebuild that held the
    ledger and then waited for that row would deadlock with it, so the
    contacts table is locked (EXCLUSIVE: plain reads go on, contact writes,
    touchpoints of contacts and scoring wait until the rebuild commits). On
    SQLite a write takes the database's single write lock, which serialises
    writers already: a no-op UPDATE takes it before any read.
    """
    qn = connection.ops.quote_name
    run_t, contact_t = qn(DecayRun._meta.db_table), qn(Contact._meta.db_table)
    ledger_t = qn(ScoreChange._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"LOCK TABLE {run_t} IN EXCLUSIVE MODE")
            cursor.execute(f"LOCK TABLE {contact_t} IN EXCLUSIVE MODE")
            cursor.execute(f"LOCK TABLE {ledger_t} IN SHARE ROW EXCLUSIVE MODE")
        else:
            cursor.execute(f"UPDATE {run_t} SET id = id WHERE id < 0")  # noqa: S608


def replay_decay(contact_ids: Iterable[int] | None = None) -> int:
    """Recompute ``Contact.decay_total`` from the ledger and the runs, one
    set-based UPDATE per run (runs are few); returns the runs replayed.

    At run k a contact had the sum of its ledger rows written before k
    (``after_decay_run < k``) plus what earlier runs took: the score the run
    saw, so the replay takes the same share. Serialised with live scoring
    and decay runs (:func:`lock_for_rebuild`).
    """
    ids = None if contact_ids is None else list(contact_ids)
    qn = connection.ops.quote_name
    contact_t, ledger_t = qn(Contact._meta.db_table), qn(ScoreChange._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        lock_for_rebuild()
        runs = list(DecayRun.objects.filter(contacts__gt=0).order_by("pk"))
        scope, params = _scope(contact_t, ids)
        cursor.execute(
            f"UPDATE {contact_t} SET decay_total = 0 WHERE decay_total <> 0{scope}",  # noqa: S608
            params,
        )
        scope, params = _scope("c", ids)
        for run in runs:
            taken = _taken_sql(run.mode, run.points, "x.s")
            cursor.execute(
                f"""
                UPDATE {contact_t}
                SET decay_total = {contact_t}.decay_total
                    - CASE WHEN x.s > 0 THEN {taken} ELSE 0 END
                FROM (
                    SELECT c.id, c.decay_total + COALESCE(SUM(l.delta), 0) AS s
                    FROM {contact_t} c
                    LEFT JOIN {ledger_t} l ON l.contact_id = c.id AND l.after_decay_run < %s
                    WHERE (c.decay_runs || ',') LIKE %s{scope}
                    GROUP BY c.id, c.decay_total
                ) x
                WHERE x.id = {contact_t}.id
                """,  # noqa: S608 - quoted table names and integers only
                [run.pk, f"%,{run.pk},%", *params],
            )
    return len(runs)


PLACES_TABLE = "wj_replay_places"


def remember_places(ledger: QuerySet) -> bool:
    """Before a replay deletes the rule rows in ``ledger``: keep each scored
    touchpoint's place among the decay runs in a temporary table, so the
    rebuilt rows can take it (the unique (rule, touchpoint) forbids writing
    them beside the old ones). Nothing to keep, and False, when decay never ran."""
    if not DecayRun.objects.exists():
        return False
    places = (
        ledger.filter(touchpoint__isnull=False)
        .order_by()
        .values("touchpoint_id")
        .annotate(run=Max("after_decay_run"))
    )
    sql, params = places.query.sql_with_params()
    table = connection.ops.quote_name(PLACES_TABLE)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(f"CREATE TEMPORARY TABLE {table} AS {sql}", params)  # noqa: S608
        cursor.execute(f"CREATE INDEX {PLACES_TABLE}_tp ON {table} (touchpoint_id)")
    return True


def stamp_replayed_rows(first_id: int, places: bool) -> None:
    """Give ledger rows with ids >= ``first_id`` (just rebuilt by replay_rules)
    their place among the decay runs: the old row's place for the same
    touchpoint (``remember_places``), else after the contact's last run before
    the touchpoint happened. One UPDATE, of decayed contacts' rows only (the
    others keep 0); nothing to do when decay never ran."""
    if not places:
        return
    qn = connection.ops.quote_name
    contact_t, ledger_t = qn(Contact._meta.db_table), qn(ScoreChange._meta.db_table)
    run_t, places_t = qn(DecayRun._meta.db_table), qn(PLACES_TABLE)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {ledger_t} SET after_decay_run = COALESCE(
                (SELECT p.run FROM {places_t} p WHERE p.touchpoint_id = {ledger_t}.touchpoint_id),
                (SELECT MAX(r.id) FROM {run_t} r, {contact_t} c
                 WHERE c.id = {ledger_t}.contact_id AND r.ran_at <= {ledger_t}.occurred_at
                   AND (c.decay_runs || ',') LIKE '%%,' || CAST(r.id AS TEXT) || ',%%'),
                0)
            WHERE id >= %s AND touchpoint_id IS NOT NULL
              AND contact_id IN (SELECT id FROM {contact_t} WHERE decay_runs <> '')
            """,  # noqa: S608 - quoted table names only
            [first_id],
        )
        cursor.execute(f"DROP TABLE {places_t}")
