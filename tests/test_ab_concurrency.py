"""The A/B winner is picked exactly once when workers and an editor ask at once (PostgreSQL)."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.emails.conftest import consented
from tests.emails.helpers import make_template, marketing_purpose
from tests.segment_helpers import group, make_segment, r
from tests.test_concurrency import run_at_once
from wagtail_journey.emails import ab_tests, broadcasts
from wagtail_journey.models import Broadcast, BroadcastVariant, OutboundEmail
from wagtail_journey.models.outbound import OutboundStatus

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

N = 8


def test_eight_pickers_at_once_pick_one_winner_and_release_the_rest_once():
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is proven on PostgreSQL: run `make test-postgres`")
    purpose = marketing_purpose()
    for i in range(40):
        consented(purpose, f"c{i}@example.com")
    segment = make_segment("All", group(r("lifecycle_stage", stages=["subscriber"])))
    broadcast = Broadcast.objects.create(
        name="Race", template=make_template(), segment=segment, ab_test_share=25
    )
    variants = [
        BroadcastVariant.objects.create(broadcast=broadcast, subject=s, sort_order=i)
        for i, s in enumerate(["One", "Two", "Three"])
    ]
    broadcasts.start(broadcast)
    held = OutboundEmail.objects.filter(broadcast=broadcast, status=OutboundStatus.HELD).count()
    assert held == 30

    def pick(i: int):
        # Half the callers are the sweep (best variant), half an editor choosing one.
        def run():
            chosen = variants[i % 3] if i % 2 else None
            return ab_tests.pick_winner(Broadcast.objects.get(pk=broadcast.pk), chosen)

        return run

    results = run_at_once([pick(i) for i in range(N)])
    winners = [w for w in results if w is not None]
    assert len(winners) == 1
    broadcast.refresh_from_db()
    assert broadcast.winner_id == winners[0].pk
    rows = OutboundEmail.objects.filter(broadcast=broadcast)
    assert not rows.filter(status=OutboundStatus.HELD).exists()
    assert rows.filter(variant=winners[0]).count() == 30 + 10 // 3 + (winners[0].sort_order < 1)
