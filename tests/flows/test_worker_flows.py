"""Reliability (issue 12): real qcluster processes on PostgreSQL with the Redis broker.

Contacts (the issue's 1,000 with ``FLOW_RELIABILITY_COUNT=1000``; 300 by
default, which a loaded CI machine finishes in minutes) are enrolled in a
3-email flow with one-minute waits; two
clusters share the work; one is SIGKILLed mid-run and restarted. Every contact
receives each email at most once at the local ESP server (anymail's real
Postmark backend), every email is sent except those the killed workers held
at that instant (at most a claimed batch each, left "sending" and then
"unknown" for a person, never resent blindly), every step ran once (one email
row per contact and email), and no enrollment is stuck: all finish.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest

from tests.emails.test_worker_email import _start_cluster, _stop, postmark, site_with_esp  # noqa: F401
from tests.flows.worker_flows import SUBJECTS
from tests.test_worker import REPO, Site, _logs, site  # noqa: F401

pytestmark = [pytest.mark.worker, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

COUNT = int(os.environ.get("FLOW_RELIABILITY_COUNT", "300"))
TIMEOUT = 1200


@pytest.mark.parametrize("site", ["postgres-redis"], indirect=True)
def test_a_worker_killed_mid_flow_repeats_no_email_and_strands_nobody(
    site_with_esp: Site,  # noqa: F811
    postmark,  # noqa: F811
):
    from wagtail_journey.conf import journey_settings
    from wagtail_journey.models import Enrollment, OutboundEmail
    from wagtail_journey.models.outbound import OutboundStatus
    from wagtail_journey.schedules import ensure_schedules

    web = site_with_esp
    ensure_schedules()  # the flow and email sweeps
    postmark.delay = 0.003
    clusters = {"a": _start_cluster(web, "cluster-a"), "b": _start_cluster(web, "cluster-b")}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "tests.flows.worker_flows", "start", str(COUNT)],
            cwd=REPO,
            env=web.env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        assert done.returncode == 0, done.stderr
        out = json.loads(done.stdout.strip().splitlines()[-1])
        assert out["enrolled"] == COUNT
        deadline = time.monotonic() + TIMEOUT
        while len(postmark.requests) < COUNT // 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.killpg(clusters["a"].pid, signal.SIGKILL)  # mid-run, no goodbye
        clusters["a"].wait(timeout=10)
        killed_at = len(postmark.requests)
        assert killed_at < 3 * COUNT, "the run ended before the kill: nothing was tested"
        clusters["a"] = _start_cluster(web, "cluster-a2")

        running = Enrollment.objects.filter(ended_at__isnull=True)
        pending = OutboundEmail.objects.filter(status=OutboundStatus.PENDING)
        while time.monotonic() < deadline:
            if not running.exists() and not pending.exists():
                time.sleep(2)  # let the last answers be stored
                if not pending.exists():
                    break
            time.sleep(1)
    finally:
        for proc in clusters.values():
            if proc.poll() is None:
                _stop(proc)

    assert not Enrollment.objects.filter(ended_at__isnull=True).exists(), _logs(web)
    assert set(Enrollment.objects.values_list("exit_reason", flat=True)) == {
        Enrollment.Exit.COMPLETED
    }
    received = Counter((r["json"].get("To"), r["json"].get("Subject")) for r in postmark.requests)
    twice = [pair for pair, n in received.items() if n > 1]
    assert not twice, f"received twice: {twice[:5]}"
    rows = OutboundEmail.objects.all()
    assert rows.count() == 3 * COUNT  # one row per contact and email: the steps ran once
    assert not rows.filter(status=OutboundStatus.PENDING).exists(), _logs(web)
    in_doubt = rows.filter(status__in=[OutboundStatus.SENDING, OutboundStatus.UNKNOWN]).count()
    sent = rows.filter(status=OutboundStatus.SENT).count()
    assert sent + in_doubt == 3 * COUNT
    # At most what the killed cluster's two workers held: a claimed batch each.
    assert in_doubt <= 2 * journey_settings.EMAIL_BATCH_SIZE
    assert {s for _to, s in received} == set(SUBJECTS)
    print(f"killed after {killed_at} requests; {sent} sent, {in_doubt} in doubt, none twice")
