"""Decay on PostgreSQL with real concurrency: two workers running the same
period decay once; decay racing live scoring stays explainable and rebuildable
(run by make test-postgres)."""

import random
import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.db.models import Sum
from django.utils import timezone

from wagtail_journey import record
from wagtail_journey.models import Contact, DecayRun, ScoreChange, ScoringRule
from wagtail_journey.scoring import (
    add_manual_change,
    apply_decay,
    explain_score,
    replay_rules,
    sync_scores_from_ledger,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

HALVE = {"mode": "halve", "days": 90}


@pytest.fixture(autouse=True)
def _needs_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (make test-postgres)")


def in_threads(*jobs):
    """Run each job in its own thread and connection, started together."""
    barrier = threading.Barrier(len(jobs))
    results, errors = [None] * len(jobs), []

    def work(i, job):
        try:
            barrier.wait()
            results[i] = job()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    return results


def visits(ids, seed, count, when):
    """A job: ``count`` page views of contacts picked at random among ``ids``."""

    def job():
        rnd = random.Random(seed)
        for _ in range(count):
            contact = Contact.objects.get(pk=rnd.choice(ids))
            record("page_view", contact=contact, occurred_at=when)

    return job


def scores():
    return dict(Contact.objects.values_list("pk", "score"))


def test_two_workers_decaying_at_once_decay_each_contact_once():
    n = 3000  # enough rows that the two UPDATEs overlap
    contacts = Contact.objects.bulk_create(Contact(email=f"w{i}@example.com") for i in range(n))
    ScoreChange.objects.bulk_create(
        ScoreChange(
            contact=c, reason="manual", label="import", delta=10 + i % 7, occurred_at=c.created_at
        )
        for i, c in enumerate(contacts)
    )
    sync_scores_from_ledger()
    later = timezone.now() + timedelta(days=100)
    results = in_threads(lambda: apply_decay(later, HALVE), lambda: apply_decay(later, HALVE))
    assert sorted(results) == [0, n]
    assert DecayRun.objects.get().contacts == n
    expected = {c.pk: (10 + i % 7) // 2 for i, c in enumerate(contacts)}
    assert scores() == expected
    for c in Contact.objects.all()[:20]:
        assert explain_score(c).total == c.score


def test_decay_racing_live_scoring_stays_explainable_and_rebuildable():
    ScoringRule.objects.create(name="view", kind="page_view", points=7)
    contacts = [Contact.objects.create(email=f"r{i}@example.com") for i in range(4)]
    ids = [c.pk for c in contacts]
    for c in contacts:  # points before the race, so the first run always decays
        add_manual_change(c, 40, "import")
    # Old activity: contacts stay inactive, so every run can decay them.
    long_ago = timezone.now() - timedelta(days=400)

    def decays():
        start = timezone.now()
        return [apply_decay(start + timedelta(days=90 * (i + 1)), HALVE) for i in range(8)]

    runs = in_threads(*(visits(ids, seed, 25, long_ago) for seed in (1, 2, 3)), decays)[-1]
    assert runs[0] == 4
    assert sum(runs) == sum(DecayRun.objects.values_list("contacts", flat=True))
    assert ScoreChange.objects.filter(reason="rule").count() == 75
    incremental = scores()
    for c in Contact.objects.all():
        assert explain_score(c).total == c.score
    Contact.objects.update(score=0, decay_total=0)
    sync_scores_from_ledger()
    assert scores() == incremental
    replay_rules()
    assert scores() == incremental


def ledger_state():
    fields = ("contact_id", "rule_id", "touchpoint_id", "delta", "after_decay_run")
    return sorted(ScoreChange.objects.values_list(*fields), key=repr)


def test_a_replay_beside_live_scoring_and_decay_ends_as_a_replay_alone():
    """``rebuild_scores --replay`` while page views are scored and decay runs:
    no unique violation or deadlock, no run undone, no live row re-stamped.
    Live scoring and decay wait for the rebuild, so the end state is one a
    replay run alone afterwards leaves unchanged."""
    ScoringRule.objects.create(name="view", kind="page_view", points=7)
    contacts = [Contact.objects.create(email=f"q{i}@example.com") for i in range(4)]
    ids = [c.pk for c in contacts]
    long_ago = timezone.now() - timedelta(days=400)
    for c in contacts:  # scored rows and a run before the race: the replay has work
        add_manual_change(c, 40, "import")
        for _ in range(3):
            record("page_view", contact=c, occurred_at=long_ago)
    start = timezone.now()
    assert apply_decay(start + timedelta(days=90), HALVE) == 4

    def decays():
        return [apply_decay(start + timedelta(days=90 * (i + 2)), HALVE) for i in range(6)]

    def rebuilds():
        for _ in range(3):
            replay_rules()
            sync_scores_from_ledger()

    in_threads(visits(ids, 1, 30, long_ago), visits(ids, 2, 30, long_ago), decays, rebuilds)
    assert ScoreChange.objects.filter(reason="rule").count() == 4 * 3 + 60
    ledger = dict(
        ScoreChange.objects.order_by()
        .values("contact")
        .annotate(s=Sum("delta"))
        .values_list("contact", "s")
    )
    for c in Contact.objects.all():
        assert c.score == ledger[c.pk] + c.decay_total
        assert explain_score(c).total == c.score
    raced, raced_ledger = scores(), ledger_state()
    replay_rules()
    assert scores() == raced
    assert ledger_state() == raced_ledger
