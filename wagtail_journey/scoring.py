"""Lead scoring: apply ScoringRules to touchpoints, keep the ledger, decay.

The score of a contact is the sum of its ScoreChange rows; Contact.score is a
cache of that sum. Incremental scoring (the ``scoring`` reaction) and the
replay in :func:`rebuild_scores` share :func:`rule_matches` and
:func:`cap_allows`, so both give the same ledger.
"""

from __future__ import annotations

import logging
from bisect import bisect_left, bisect_right, insort
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from wagtail.models import Page

from wagtail_journey.conf import journey_settings
from wagtail_journey.events import SYSTEM_KINDS, reaction
from wagtail_journey.models import Contact, ScoreChange, ScoringRule, Touchpoint

logger = logging.getLogger(__name__)

#: Touchpoints recorded by scoring, stages, tags and segments: never scored.
DERIVED_KINDS = SYSTEM_KINDS


def active_rules(kinds: Iterable[str] | None = None) -> list[ScoringRule]:
    qs = ScoringRule.objects.filter(active=True).exclude(page_deleted=True, page__isnull=True)
    if kinds is not None:
        qs = qs.filter(kind__in=list(kinds))
    return list(qs)


def page_paths(page_ids: Iterable[int | None]) -> dict[int, str]:
    ids = {i for i in page_ids if i is not None}
    if not ids:
        return {}
    return dict(Page.objects.filter(pk__in=ids).values_list("pk", "path"))


def _utm(touchpoint: Touchpoint, key: str) -> str:
    utm = touchpoint.utm or {}
    return str(utm.get(key) or utm.get(f"utm_{key}") or "")


def rule_matches(rule: ScoringRule, touchpoint: Touchpoint, paths: dict[int, str]) -> bool:
    """Whether ``touchpoint`` satisfies the rule's kind and filters."""
    if rule.kind != touchpoint.kind:
        return False
    if rule.page_id is not None:
        if touchpoint.page_id is None:
            return False
        if rule.include_subpages:
            rule_path, tp_path = paths.get(rule.page_id), paths.get(touchpoint.page_id)
            if not rule_path or not tp_path or not tp_path.startswith(rule_path):
                return False
        elif rule.page_id != touchpoint.page_id:
            return False
    props = touchpoint.properties or {}
    if rule.form and str(props.get("form", "")) != rule.form:
        return False
    if rule.email and str(props.get("email", "")) != rule.email:
        return False
    if rule.utm_source and _utm(touchpoint, "source") != rule.utm_source:
        return False
    if rule.utm_campaign and _utm(touchpoint, "campaign") != rule.utm_campaign:
        return False
    if rule.property_name:
        if rule.property_name not in props:
            return False
        if rule.property_value and str(props[rule.property_name]) != rule.property_value:
            return False
    return True


def cap_allows(rule: ScoringRule, prior: int) -> bool:
    """``prior``: times the rule already scored for the contact within its window."""
    return rule.cap_count is None or prior < rule.cap_count


def matching_rules(touchpoint: Touchpoint) -> list[ScoringRule]:
    """The active rules matching ``touchpoint`` (one query, two with subtree filters)."""
    rules = active_rules([touchpoint.kind])
    if not rules:
        return []
    paths = {}
    if touchpoint.page_id and any(r.include_subpages and r.page_id for r in rules):
        paths = page_paths([touchpoint.page_id, *(r.page_id for r in rules)])
    return [r for r in rules if rule_matches(r, touchpoint, paths)]


def _change(rule: ScoringRule, touchpoint: Touchpoint) -> ScoreChange:
    return ScoreChange(
        contact_id=touchpoint.contact_id,
        rule=rule,
        touchpoint_id=touchpoint.pk,
        reason=ScoreChange.Reason.RULE,
        label=rule.name[:200],
        delta=rule.points,
        occurred_at=touchpoint.occurred_at,
    )


class CapCounter:
    """When each capped rule scored for one contact, so touchpoints taken in
    time order are capped without a query each (replay, identified history).

    A per-period cap means: no window of that length holds more rows than the
    cap. A touchpoint is checked against every window that contains it, so one
    that arrives late (an identified visitor's history, a back-dated event)
    neither overfills a window with the contact's later rows nor is blocked by
    rows more than a window away. The ``scoring`` reaction uses it too (with
    the few rows near the touchpoint), so incremental scoring, replay and
    history agree.
    """

    def __init__(self, scored: Iterable[tuple[int, datetime]] = ()) -> None:
        self._times: dict[int, list[datetime]] = defaultdict(list)
        for rule_id, when in scored:
            self._times[rule_id].append(when)
        for times in self._times.values():
            times.sort()

    def take(self, rule: ScoringRule, when: datetime) -> bool:
        """Whether the cap lets ``rule`` score at ``when``; if so, count it."""
        if rule.cap_count is None:
            return True
        times = self._times[rule.pk]
        window = rule.cap_window
        if window is None:
            prior = len(times)
        else:
            # The fullest window (end - window, end] containing ``when`` ends at
            # ``when`` or at one of the rows less than a window after it.
            later = times[bisect_right(times, when) : bisect_left(times, when + window)]
            prior = max(
                bisect_right(times, end) - bisect_right(times, end - window)
                for end in (when, *later)
            )
        if not cap_allows(rule, prior):
            return False
        insort(times, when)
        return True


def plan_changes(
    touchpoint: Touchpoint,
    rules: Iterable[ScoringRule],
    paths: dict[int, str],
    caps: CapCounter,
) -> list[ScoreChange]:
    """The (unsaved) ledger rows ``touchpoint`` earns from ``rules`` within caps."""
    return [
        _change(r, touchpoint)
        for r in rules
        if rule_matches(r, touchpoint, paths) and caps.take(r, touchpoint.occurred_at)
    ]


def score_history(contact: Contact, touchpoints: list[Touchpoint]) -> int:
    """Score an identified visitor's earlier touchpoints as if they had been the
    contact's; returns the ledger rows made.

    The same rules, filters and caps as the ``scoring`` reaction, taken in time
    order (so "3 times per day" holds across the history and the contact's
    ledger). A bounded number of queries however long the history: rules, page
    paths, the contact lock, the ledger rows the caps and the duplicate check
    need, batched INSERTs, one score UPDATE and one ``score_changed``
    touchpoint for the whole history (not one per page view: a visitor may
    bring thousands). A (rule, touchpoint) pair already in the ledger is
    skipped, and a unique constraint guarantees it is never there twice.
    """
    touchpoints = sorted(
        (tp for tp in touchpoints if tp.kind not in DERIVED_KINDS),
        key=lambda tp: (tp.occurred_at, tp.pk),
    )
    rules = active_rules({tp.kind for tp in touchpoints})
    if not rules:
        return 0
    by_kind: dict[str, list[ScoringRule]] = defaultdict(list)
    for r in rules:
        by_kind[r.kind].append(r)
    paths = {}
    if any(r.include_subpages and r.page_id for r in rules):
        paths = page_paths([*(tp.page_id for tp in touchpoints), *(r.page_id for r in rules)])
    candidates = [
        (tp, matched)
        for tp in touchpoints
        if (matched := [r for r in by_kind[tp.kind] if rule_matches(r, tp, paths)])
    ]
    if not candidates:
        return 0
    from wagtail_journey.events import record
    from wagtail_journey.tags import add_tags

    with transaction.atomic():
        score = (
            Contact.objects.select_for_update().values_list("score", flat=True).get(pk=contact.pk)
        )
        ledger = ScoreChange.objects.filter(contact=contact, rule__isnull=False)
        scored = set(
            ledger.filter(
                occurred_at__gte=candidates[0][0].occurred_at,
                occurred_at__lte=candidates[-1][0].occurred_at,
            ).values_list("rule_id", "touchpoint_id")
        )
        capped = {r.pk for _tp, matched in candidates for r in matched if r.cap_count is not None}
        caps = CapCounter(
            ledger.filter(rule__in=capped).values_list("rule_id", "occurred_at") if capped else ()
        )
        changes = [
            change
            for tp, matched in candidates
            for change in plan_changes(
                tp, [r for r in matched if (r.pk, tp.pk) not in scored], paths, caps
            )
        ]
        if not changes:
            return 0
        ScoreChange.objects.bulk_create(changes, batch_size=1000)
        delta = sum(c.delta for c in changes)
        fired = {c.rule.pk: c.rule for c in changes}
        if delta:
            Contact.objects.filter(pk=contact.pk).update(score=F("score") + delta)
            contact.score = score + delta
            record(
                "score_changed",
                contact=contact,
                occurred_at=changes[-1].occurred_at,
                properties={
                    "delta": delta,
                    "score": score + delta,
                    "rules": sorted(fired),
                    "history": len({c.touchpoint_id for c in changes}),
                },
            )
        tags = sorted({r.add_tag for r in fired.values() if r.add_tag})
        if tags:
            add_tags(contact, *tags, source="scoring")
    return len(changes)


@reaction("scoring", order=20, history=score_history)
def score_touchpoint(touchpoint: Touchpoint) -> None:
    """Score one touchpoint: ledger rows, one atomic score UPDATE, one
    ``score_changed`` touchpoint. The contact row is locked first, so
    concurrent touchpoints of one contact neither lose points nor break caps."""
    if touchpoint.contact_id is None or touchpoint.kind in DERIVED_KINDS:
        return
    rules = matching_rules(touchpoint)
    if not rules:
        return
    from wagtail_journey.events import record
    from wagtail_journey.tags import add_tags

    with transaction.atomic():
        # The lock serialises scoring per contact (caps are counted under it).
        score = (
            Contact.objects.select_for_update()
            .values_list("score", flat=True)
            .get(pk=touchpoint.contact_id)
        )
        capped = [r for r in rules if r.cap_count is not None]
        caps = CapCounter()
        if capped:
            # The rows of each capped rule that a window containing this
            # touchpoint can hold (all of them for "in total" caps): a few.
            when = touchpoint.occurred_at
            near = Q()
            for r in capped:
                window = r.cap_window
                near |= Q(rule=r.pk) & (
                    Q(occurred_at__gt=when - window, occurred_at__lt=when + window)
                    if window
                    else Q()
                )
            caps = CapCounter(
                ScoreChange.objects.filter(near, contact_id=touchpoint.contact_id).values_list(
                    "rule_id", "occurred_at"
                )
            )
        fired = [r for r in rules if caps.take(r, touchpoint.occurred_at)]
        if not fired:
            return
        ScoreChange.objects.bulk_create([_change(r, touchpoint) for r in fired])
        delta = sum(r.points for r in fired)
        if delta:
            Contact.objects.filter(pk=touchpoint.contact_id).update(score=F("score") + delta)
            record(
                "score_changed",
                contact=touchpoint.contact,
                occurred_at=touchpoint.occurred_at,
                properties={
                    "delta": delta,
                    "score": score + delta,
                    "rules": [r.pk for r in fired],
                    "touchpoint": touchpoint.pk,
                },
            )
            touchpoint.contact.score = score + delta
        tags = [r.add_tag for r in fired if r.add_tag]
        if tags:
            add_tags(touchpoint.contact, *tags, source="scoring")


def add_manual_change(contact: Contact, delta: int, label: str) -> ScoreChange:
    """An editor's correction: a ledger row, the same atomic UPDATE, and a
    ``score_changed`` touchpoint (so score thresholds apply)."""
    from wagtail_journey.events import record

    with transaction.atomic():
        score = (
            Contact.objects.select_for_update().values_list("score", flat=True).get(pk=contact.pk)
        )
        change = ScoreChange.objects.create(
            contact=contact,
            reason=ScoreChange.Reason.MANUAL,
            label=label[:200],
            delta=delta,
            occurred_at=timezone.now(),
        )
        Contact.objects.filter(pk=contact.pk).update(score=F("score") + delta)
        contact.score = score + delta
        record(
            "score_changed",
            contact=contact,
            occurred_at=change.occurred_at,
            properties={"delta": delta, "score": score + delta, "manual": True},
        )
    return change


def sync_scores_from_ledger(contact_ids: Iterable[int] | None = None) -> int:
    """Set Contact.score to the sum of its ledger (one UPDATE); returns rows fixed."""
    total = Subquery(
        ScoreChange.objects.filter(contact=OuterRef("pk"))
        .order_by()
        .values("contact")
        .annotate(s=Sum("delta"))
        .values("s"),
        output_field=IntegerField(),
    )
    contacts = Contact.objects.all()
    if contact_ids is not None:
        contacts = contacts.filter(pk__in=list(contact_ids))
    return (
        contacts.annotate(ledger=Coalesce(total, Value(0)))
        .exclude(score=F("ledger"))
        .update(score=Coalesce(total, Value(0)))
    )


def replay_rules(contact_ids: Iterable[int] | None = None, batch_size: int = 5000) -> int:
    """Rebuild the rule rows of the ledger from the touchpoints (rules as they are
    now), keeping decay and manual rows; then sync scores. Returns rule rows made.

    Streams touchpoints in (contact, id) order and counts caps in memory, so it
    runs a fixed number of queries per batch, not per touchpoint.
    """
    rules = active_rules()
    by_kind: dict[str, list[ScoringRule]] = defaultdict(list)
    for r in rules:
        by_kind[r.kind].append(r)
    paths = page_paths(r.page_id for r in rules if r.include_subpages)
    made = 0
    with transaction.atomic():
        ledger = ScoreChange.objects.filter(reason=ScoreChange.Reason.RULE)
        tps = Touchpoint.objects.filter(contact__isnull=False, kind__in=list(by_kind))
        if contact_ids is not None:
            ids = list(contact_ids)
            ledger = ledger.filter(contact_id__in=ids)
            tps = tps.filter(contact_id__in=ids)
        ledger.delete()
        caps = CapCounter()
        pending: list[ScoreChange] = []
        current = None
        for tp in tps.order_by("contact_id", "id").iterator(chunk_size=batch_size):
            if tp.contact_id != current:
                caps = CapCounter()
                current = tp.contact_id
            if any(r.include_subpages for r in by_kind[tp.kind]) and tp.page_id not in paths:
                paths.update(page_paths([tp.page_id]))
            pending.extend(plan_changes(tp, by_kind[tp.kind], paths, caps))
            if len(pending) >= batch_size:
                ScoreChange.objects.bulk_create(pending)
                made += len(pending)
                pending = []
        ScoreChange.objects.bulk_create(pending)
        made += len(pending)
        sync_scores_from_ledger(None if contact_ids is None else ids)
    return made


# --- decay -------------------------------------------------------------------


def decay_config() -> dict | None:
    cfg = journey_settings.SCORE_DECAY
    if not cfg:
        return None
    mode = cfg.get("mode")
    if mode not in ("halve", "subtract") or int(cfg.get("days", 0)) <= 0:
        raise ValueError(f"Invalid SCORE_DECAY: {cfg!r}")
    return cfg


def decay_period(cfg: dict, now: datetime) -> str:
    days = int(cfg["days"])
    bucket = int(now.timestamp() // (days * 86400))
    return f"{cfg['mode']}:{days}:{cfg.get('points', '')}:{bucket}"


def apply_decay(now: datetime | None = None, cfg: dict | None = None) -> int:
    """Decay the scores of inactive contacts; returns how many contacts decayed.

    Set-based: on PostgreSQL one UPDATE ... RETURNING feeding the ledger
    INSERT; elsewhere INSERT ... SELECT the ledger rows, then UPDATE ... FROM
    them. At most one decay row per contact and period: running twice in a
    period changes nothing.
    """
    cfg = cfg or decay_config()
    if not cfg:
        return 0
    now = now or timezone.now()
    days = int(cfg["days"])
    period = decay_period(cfg, now)
    cutoff = now - timedelta(days=days)
    if cfg["mode"] == "halve":
        delta_sql = "-({t}.score - {t}.score / 2)"
        label = f"decay: halved after {days} days without activity"
    else:
        points = int(cfg.get("points", 0))
        if points <= 0:
            raise ValueError("SCORE_DECAY subtract needs positive 'points'")
        delta_sql = f"-(CASE WHEN {{t}}.score < {points} THEN {{t}}.score ELSE {points} END)"
        label = f"decay: -{points} after {days} days without activity"
    qn = connection.ops.quote_name
    contact_t, ledger_t = qn(Contact._meta.db_table), qn(ScoreChange._meta.db_table)
    due = f"""
        {{t}}.score > 0
        AND COALESCE({{t}}.last_activity_at, {{t}}.created_at) < %s
        AND {{t}}.id NOT IN (
            SELECT l.contact_id FROM {ledger_t} l WHERE l.reason = 'decay' AND l.period = %s)
    """  # noqa: S608
    columns = (
        "(contact_id, rule_id, touchpoint_id, reason, label, delta, occurred_at, period, "
        "created_at)"
    )
    # Only quoted table names and integer expressions are interpolated; every
    # value is a parameter. NOT IN gives a hashed anti-join whatever the
    # ledger's statistics say.
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One statement: the UPDATE joins the row's previous version (o)
            # and returns each delta straight into the ledger.
            cursor.execute(
                f"""
                WITH upd AS (
                    UPDATE {contact_t} c SET score = c.score + {delta_sql.format(t="o")}
                    FROM {contact_t} o
                    WHERE o.id = c.id AND {due.format(t="o")}
                    RETURNING c.id, {delta_sql.format(t="o")} AS delta
                )
                INSERT INTO {ledger_t} {columns}
                SELECT id, NULL, NULL, 'decay', %s, delta, %s, %s, %s FROM upd
                """,  # noqa: S608
                [cutoff, period, label[:200], now, period, now],
            )
            return cursor.rowcount
        cursor.execute(
            f"""
            INSERT INTO {ledger_t} {columns}
            SELECT c.id, NULL, NULL, 'decay', %s, {delta_sql.format(t="c")}, %s, %s, %s
            FROM {contact_t} c
            WHERE {due.format(t="c")}
            """,  # noqa: S608
            [label[:200], now, period, now, cutoff, period],
        )
        inserted = cursor.rowcount
        if inserted:
            cursor.execute(
                f"""
                UPDATE {contact_t} SET score = {contact_t}.score + l.delta
                FROM {ledger_t} l
                WHERE l.contact_id = {contact_t}.id AND l.reason = 'decay'
                  AND l.period = %s AND l.created_at = %s
                """,  # noqa: S608
                [period, now],
            )
    return inserted


def run_decay() -> int:
    """django-q2 schedule entry point (idempotent)."""
    n = apply_decay()
    logger.info("Score decay: %s contacts", n)
    return n
