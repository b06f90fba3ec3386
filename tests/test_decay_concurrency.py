"""Decay on PostgreSQL with real concurrency: two workers running the same
period decay once; decay racing live scoring stays explainable and rebuildable
(run by make test-postgres)."""

import random
import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
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

    def visits(seed):
        def job():
            rnd = random.Random(seed)
            for _ in range(25):
                contact = Contact.objects.get(pk=rnd.choice(ids))
                record("page_view", contact=contact, occurred_at=long_ago)

        return job

    def decays():
        start = timezone.now()
        return [apply_decay(start + timedelta(days=90 * (i + 1)), HALVE) for i in range(8)]

    runs = in_threads(visits(1), visits(2), visits(3), decays)[-1]
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
