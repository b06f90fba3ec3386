"""Lead scoring: apply ScoringRules to touchpoints, keep the ledger.

The score of a contact is the sum of its ScoreChange rows plus what decay took
(``Contact.decay_total``, see wagtail_journey.decay); Contact.score is a cache
of that. Incremental scoring (the ``scoring`` reaction), identified-history
scoring (:func:`score_history`) and the replay in :func:`replay_rules` share
:func:`rule_matches` and :class:`CapCounter`.

They give the same ledger when touchpoints are scored in the order they
happened (live traffic). A capped rule's counter is greedy, so the ledger
depends on the order touchpoints are taken, and they can differ when a
touchpoint arrives after later ones were already scored: an identified
visitor's history, or a back-dated event. Scoring then keeps the rows already
in the ledger and caps the late touchpoint against them, while the replay
takes every touchpoint in time order (``occurred_at``, then id) and may keep
the early one instead. Example, cap 1 per day: the contact scores a view at
13h, one at 26h is blocked; a history brings one at 0h, blocked by the 13h
row. The ledger holds the 13h row; a replay holds the 0h and 26h rows. So
``rebuild_scores --replay`` can change such scores without a rule change;
the plain rebuild (:func:`sync_scores_from_ledger`) never does.
"""

from __future__ import annotations

import logging
from bisect import bisect_left, bisect_right, insort
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, IntegerField, Max, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext
from wagtail.models import Page

# Decay lives in its own module; the schedule's dotted path names this one.
from wagtail_journey.decay import (  # noqa: F401 - re-exported
    apply_decay,
    decay_config,
    decay_period,
    decay_shares,
    ledger_sums,
    lock_for_rebuild,
    remember_places,
    replay_decay,
    run_decay,
    stamp_replayed_rows,
)
from wagtail_journey.events import NOT_MACHINE_MADE, SYSTEM_KINDS, reaction
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


def _change(rule: ScoringRule, touchpoint: Touchpoint, after_decay_run: int = 0) -> ScoreChange:
    """A rule's ledger row for a touchpoint, placed after the contact's last decay run."""
    return ScoreChange(
        after_decay_run=after_decay_run,
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
    the few rows near the touchpoint).

    ``take`` is greedy: the first touchpoint taken keeps its place, so the
    result depends on the order. Incremental scoring, replay and history agree
    when touchpoints are taken in time order; a late touchpoint (history,
    back-dated event) taken after later ones can be blocked where the replay,
    taking it first, blocks a later one instead (see the module docstring).
    Making caps order-independent would mean displacing rows already scored;
    the ledger never does that.
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
        score, last_run = (
            Contact.objects.select_for_update()
            .values_list("score", "last_decay_run")
            .get(pk=contact.pk)
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
        for change in changes:  # the points join the score now: after every run so far
            change.after_decay_run = last_run
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
        score, last_run = (
            Contact.objects.select_for_update()
            .values_list("score", "last_decay_run")
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
        ScoreChange.objects.bulk_create([_change(r, touchpoint, last_run) for r in fired])
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


#: Largest manual correction, in points, either way.
MAX_MANUAL_CHANGE = 1_000_000
#: A score is a 32-bit integer column on every database.
SCORE_RANGE = (-(2**31), 2**31 - 1)


def add_manual_change(
    contact: Contact,
    delta: int,
    label: str,
    *,
    reason: str = ScoreChange.Reason.MANUAL,
    properties: dict | None = None,
) -> ScoreChange:
    """An editor's correction: a ledger row, the same atomic UPDATE, and a
    ``score_changed`` touchpoint (so score thresholds apply).

    Raises a translated ValidationError, changing nothing, for a correction over
    MAX_MANUAL_CHANGE points or one that would take the score out of its column's range.
    """
    from wagtail_journey.events import record

    if not isinstance(delta, int) or abs(delta) > MAX_MANUAL_CHANGE:
        raise ValidationError(
            gettext("Enter a number of points between -%(max)s and %(max)s.")
            % {"max": f"{MAX_MANUAL_CHANGE:,}".replace(",", " ")},
            code="delta",
        )
    with transaction.atomic():
        score, last_run = (
            Contact.objects.select_for_update()
            .values_list("score", "last_decay_run")
            .get(pk=contact.pk)
        )
        if not SCORE_RANGE[0] <= score + delta <= SCORE_RANGE[1]:
            raise ValidationError(
                gettext("This change would take the score out of range."), code="score_range"
            )
        change = ScoreChange.objects.create(
            contact=contact,
            reason=reason,
            label=label[:200],
            delta=delta,
            occurred_at=timezone.now(),
            after_decay_run=last_run,
        )
        Contact.objects.filter(pk=contact.pk).update(score=F("score") + delta)
        contact.score = score + delta
        record(
            "score_changed",
            contact=contact,
            occurred_at=change.occurred_at,
            properties={
                "delta": delta,
                "score": score + delta,
                **(properties if properties is not None else {"manual": True}),
            },
        )
    return change


@dataclass(frozen=True)
class ScorePart:
    """One line of a score's explanation: a ledger row or a decay run's share."""

    when: datetime
    delta: int
    reason: str
    why: str
    touchpoint: Touchpoint | None = None


@dataclass(frozen=True)
class ScoreExplanation:
    """Why a contact's score is what it is: ``parts`` in the order they were
    applied, newest first (at most ``limit`` ledger rows, every decay run), and
    the totals the whole ledger and decay add up to."""

    parts: list[ScorePart]
    ledger_total: int
    decay_total: int

    @property
    def total(self) -> int:
        return self.ledger_total + self.decay_total


def explain_score(contact: Contact, limit: int = 100) -> ScoreExplanation:
    """The contact page's account of the score, in three queries (it reads the
    instance's ``decay_runs``: pass a contact loaded with its score).

    Rows are ordered by their place among the decay runs, then by when they
    happened; each run sits where it was applied, with this contact's share.
    """
    sums = ledger_sums(contact)
    shares = decay_shares(contact, sums)
    rows = contact.score_changes.select_related("rule", "touchpoint__page").order_by(
        "-after_decay_run", "-occurred_at", "-id"
    )[:limit]
    keyed = [
        (
            (r.after_decay_run, 1, r.occurred_at.timestamp(), r.pk),
            ScorePart(r.occurred_at, r.delta, r.get_reason_display(), r.explanation, r.touchpoint),
        )
        for r in rows
    ]
    decay_label = gettext("decay")
    keyed += [
        ((run.pk, 0, 0.0, 0), ScorePart(run.ran_at, share, decay_label, run.explanation))
        for run, share in shares
    ]
    keyed.sort(key=lambda kp: kp[0], reverse=True)
    return ScoreExplanation(
        parts=[p for _, p in keyed],
        ledger_total=sum(s for _, s in sums),
        decay_total=sum(share for _, share in shares),
    )


def sync_scores_from_ledger(contact_ids: Iterable[int] | None = None) -> int:
    """Set Contact.score to the sum of its ledger plus its share of every decay
    run (replayed, one UPDATE per run, then one UPDATE); returns rows fixed.

    One transaction that live scoring and decay runs wait for
    (:func:`~wagtail_journey.decay.lock_for_rebuild`): a score scored
    meanwhile would otherwise be overwritten with a sum that misses it."""
    ids = None if contact_ids is None else list(contact_ids)
    with transaction.atomic():
        lock_for_rebuild()
        return _sync_scores(ids)


def _sync_scores(ids: list[int] | None) -> int:
    replay_decay(ids)
    total = Subquery(
        ScoreChange.objects.filter(contact=OuterRef("pk"))
        .order_by()
        .values("contact")
        .annotate(s=Sum("delta"))
        .values("s"),
        output_field=IntegerField(),
    )
    contacts = Contact.objects.all()
    if ids is not None:
        contacts = contacts.filter(pk__in=ids)
    rebuilt = Coalesce(total, Value(0)) + F("decay_total")
    return contacts.annotate(rebuilt=rebuilt).exclude(score=F("rebuilt")).update(score=rebuilt)


def replay_rules(contact_ids: Iterable[int] | None = None, batch_size: int = 5000) -> int:
    """Rebuild the rule rows of the ledger from the touchpoints (rules as they are
    now), keeping manual rows; then sync scores, replaying decay. Returns rule
    rows made.

    Streams touchpoints in (contact, occurred_at, id) order, the time order
    live scoring and :func:`score_history` take them in, and counts caps in
    memory, so it runs a fixed number of queries per batch, not per
    touchpoint. A capped rule's rows can differ from the ledger's where a
    touchpoint was scored after later ones (module docstring). The new rows
    are written before the old ones go, so each can take its old row's place
    among the decay runs (:func:`stamp_replayed_rows`).

    Live scoring and decay runs wait until it commits
    (:func:`~wagtail_journey.decay.lock_for_rebuild`, taken before anything is
    read): a row scored meanwhile would break the unique (rule, touchpoint)
    or be re-stamped as replayed, and a run would be undone.
    """
    made = 0
    with transaction.atomic():
        lock_for_rebuild()
        rules = active_rules()
        by_kind: dict[str, list[ScoringRule]] = defaultdict(list)
        for r in rules:
            by_kind[r.kind].append(r)
        paths = page_paths(r.page_id for r in rules if r.include_subpages)
        ledger = ScoreChange.objects.filter(reason=ScoreChange.Reason.RULE)
        tps = Touchpoint.objects.filter(
            NOT_MACHINE_MADE, contact__isnull=False, kind__in=list(by_kind)
        )
        if contact_ids is not None:
            ids = list(contact_ids)
            ledger = ledger.filter(contact_id__in=ids)
            tps = tps.filter(contact_id__in=ids)
        # The unique (rule, touchpoint) forbids writing the new rows beside the
        # old ones: their places among the decay runs are kept aside first.
        places = remember_places(ledger)
        ledger.delete()
        first_new = (ScoreChange.objects.aggregate(m=Max("id"))["m"] or 0) + 1
        pending: list[ScoreChange] = []
        current = None
        for tp in tps.order_by("contact_id", "occurred_at", "id").iterator(chunk_size=batch_size):
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
        stamp_replayed_rows(first_new, places)
        sync_scores_from_ledger(None if contact_ids is None else ids)
    return made
