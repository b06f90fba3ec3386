"""One real qcluster runs Wagtail's jobs and ours, on PostgreSQL with the Redis broker.

A "web" process (tests/emails/worker_send.py) creates a Wagtail page (Wagtail
enqueues its reference index update from post_save), queues a newsletter to
each consented contact and then enqueues the delivery of every row a second
time. The cluster's workers send through anymail's real Postmark backend to a
local HTTP server: every contact receives exactly one message, and Wagtail's
task finished through the same backend.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from tests.emails.esp_server import PostmarkServer
from tests.test_worker import REPO, TIMEOUT, Site, _logs, cluster, site  # noqa: F401

pytestmark = [pytest.mark.worker, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

COUNT = 40


def _web(on: Site, command: str, count: int) -> dict:
    """Run the web side (tests/emails/worker_send.py) in a process of its own."""
    web = subprocess.run(
        [sys.executable, "-m", "tests.emails.worker_send", command, str(count)],
        cwd=REPO,
        env=on.env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert web.returncode == 0, web.stderr
    return json.loads(web.stdout.strip().splitlines()[-1])


@pytest.fixture
def postmark():
    with PostmarkServer() as server:
        yield server


@pytest.fixture
def site_with_esp(site: Site, postmark):  # noqa: F811
    site.env.update(POSTMARK_SERVER_TOKEN="worker-test", POSTMARK_API_URL=postmark.url)
    return site


@pytest.mark.parametrize("site", ["postgres-redis"], indirect=True)
def test_one_cluster_runs_wagtails_task_and_sends_each_message_once(
    site_with_esp: Site,
    postmark,
    request,
):
    from django_tasks import TaskResultStatus, task_backends
    from django_tasks.exceptions import TaskResultDoesNotExist

    from wagtail_journey.models import OutboundEmail
    from wagtail_journey.models.outbound import OutboundStatus

    web_site = site_with_esp
    proc = request.getfixturevalue("cluster")
    out = _web(web_site, "enqueue", COUNT)
    reference_index = "wagtail.tasks.update_reference_index_task"
    wagtail = [r for r in out["results"] if r["task"] == reference_index]
    ours = [r for r in out["results"] if r["task"].startswith("wagtail_journey.")]
    assert wagtail and len(ours) == COUNT + 1  # one per queued row, plus the duplicate
    [failing] = [r["id"] for r in out["results"] if r["task"].endswith(".explode")]

    backend = task_backends["default"]
    deadline = time.monotonic() + TIMEOUT
    pending = {r["id"] for r in out["results"]}
    finished = {}
    while pending and time.monotonic() < deadline:
        for result_id in list(pending):
            try:
                finished[result_id] = backend.get_result(result_id)
                pending.discard(result_id)
            except TaskResultDoesNotExist:
                pass  # django-q2 knows a task once it has finished
        time.sleep(0.5)
    assert not pending, _logs(web_site)
    failed = finished.pop(failing)
    assert failed.status == TaskResultStatus.FAILED and "boom" in failed.errors[0].traceback
    assert {r.status for r in finished.values()} == {TaskResultStatus.SUCCESSFUL}
    wagtail_result = finished[wagtail[0]["id"]]
    assert wagtail_result.task.module_path == reference_index
    assert proc.poll() is None, _logs(web_site)

    rows = OutboundEmail.objects.filter(pk__in=out["rows"])
    assert sorted(rows.values_list("status", flat=True)) == [OutboundStatus.SENT] * COUNT
    sent_to = postmark.sent_to()
    assert len(sent_to) == COUNT, _logs(web_site)  # the duplicated delivery sent nothing more
    assert sorted(sent_to) == sorted(f"w{i}@example.com" for i in range(COUNT))
    assert len(set(rows.values_list("esp_message_id", flat=True))) == COUNT


KILL_COUNT = 2000


def _start_cluster(on: Site, name: str) -> subprocess.Popen:
    out = open(on.logs / f"{name}.out", "ab")  # noqa: SIM115 (closed with the process)
    err = open(on.logs / f"{name}.err", "ab")  # noqa: SIM115
    return subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=REPO / "example_site",
        env=on.env,
        stdout=out,
        stderr=err,
        start_new_session=True,  # its own process group: its workers go with it
    )


def _stop(proc: subprocess.Popen) -> None:
    import contextlib
    import os
    import signal

    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=20)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


#: What one killed cluster can hold in doubt: each of its workers (the example
#: site's Q_CLUSTER["workers"] on Redis) one claimed batch (EMAIL_BATCH_SIZE).
WORKERS_PER_CLUSTER = 2


@pytest.mark.parametrize("site", ["postgres-redis"], indirect=True)
def test_a_worker_killed_mid_send_loses_nothing_and_repeats_nothing(site_with_esp: Site, postmark):
    """Two qclusters share 2,000 deliveries; one is SIGKILLed mid-run and restarted.

    At most once: no contact receives a message twice. The messages the killed
    workers had claimed and not yet recorded (at most one batch per worker:
    some had reached the provider, some not; nobody can tell which) stay
    "sending" until the stale timeout marks them "unknown" for a person, and
    are never sent again. Every other consented contact receives exactly one
    message: tasks the dead cluster had taken from Redis are lost with it, and
    the minute sweep sends their messages.
    """
    import os
    import signal
    from datetime import timedelta

    from django.utils import timezone

    from wagtail_journey.conf import DEFAULTS, journey_settings
    from wagtail_journey.emails import sending
    from wagtail_journey.models import OutboundEmail
    from wagtail_journey.models.outbound import OutboundStatus
    from wagtail_journey.schedules import ensure_schedules

    web_site = site_with_esp
    ensure_schedules()  # the email sweep (a transactional test starts from an empty database)
    postmark.delay = 0.005
    clusters = {
        "a": _start_cluster(web_site, "cluster-a"),
        "b": _start_cluster(web_site, "cluster-b"),
    }
    try:
        _web(web_site, "bulk", KILL_COUNT)
        deadline = time.monotonic() + TIMEOUT
        while len(postmark.requests) < KILL_COUNT // 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.killpg(clusters["a"].pid, signal.SIGKILL)  # mid-run, no goodbye
        clusters["a"].wait(timeout=10)
        killed_at = len(postmark.requests)
        assert killed_at < KILL_COUNT, "the run ended before the kill: nothing was tested"
        clusters["a"] = _start_cluster(web_site, "cluster-a2")

        rows = OutboundEmail.objects.all()
        while time.monotonic() < deadline:
            if not rows.filter(status=OutboundStatus.PENDING).exists():
                time.sleep(2)  # let the last answers be stored
                if not rows.filter(status=OutboundStatus.PENDING).exists():
                    break
            time.sleep(1)
    finally:
        for proc in clusters.values():
            if proc.poll() is None:
                _stop(proc)

    received = postmark.sent_to()
    assert len(received) == len(set(received)), "a contact received a message twice"
    assert not rows.filter(status=OutboundStatus.PENDING).exists(), _logs(web_site)
    sent = set(rows.filter(status=OutboundStatus.SENT).values_list("contact__email", flat=True))
    in_doubt = set(
        rows.filter(status=OutboundStatus.SENDING).values_list("contact__email", flat=True)
    )
    assert sent <= set(received)  # every "sent" row reached the provider
    assert len(sent) + len(in_doubt) == KILL_COUNT  # nothing else happened to any row
    assert set(received) - sent <= in_doubt  # only an in-doubt row may have gone unrecorded
    bound = WORKERS_PER_CLUSTER * DEFAULTS["EMAIL_BATCH_SIZE"]
    assert len(in_doubt) <= bound, f"{len(in_doubt)} in doubt: more than one batch per worker"

    # After the stale timeout they are "unknown", and no sweep sends them again.
    later = timezone.now() + timedelta(seconds=journey_settings.EMAIL_SENDING_STALE_SECONDS + 1)
    assert sending.mark_stale_unknown(now=later) == len(in_doubt)
    assert sending.send_due().get("claimed", 0) == 0
    assert rows.filter(status=OutboundStatus.UNKNOWN).count() == len(in_doubt)
    assert len(postmark.requests) == len(received)
    print(
        f"killed after {killed_at} requests; {len(sent)} sent, {len(in_doubt)} in doubt "
        f"(bound {bound}), {len(received)} received, none twice"
    )
