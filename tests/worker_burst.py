"""The task and the client processes of the worker burst test (tests/test_worker.py).

``burst_task`` runs in a real ``qcluster`` worker. The command line plays the
web side, in processes of its own::

    python -m tests.worker_burst enqueue GROUP FIRST COUNT
        # COUNT times: async_task(burst_task) and, like a request, record() a touchpoint
    python -m tests.worker_burst wait GROUP EXPECTED TIMEOUT
        # until EXPECTED tasks of GROUP have a result (or TIMEOUT s); prints JSON
    python -m tests.worker_burst track KIND COUNT
        # COUNT times, like a tracked request: push one item into TRACKING_BUFFER

Both need DJANGO_SETTINGS_MODULE and the example site on the path.
"""

from __future__ import annotations

import json
import sys
import time

CONTACTS = 10  # distinct addresses per side: the tasks and the web side share contacts


def burst_task(i: int) -> int:
    """One task of the burst: store a touchpoint (with its reactions) in the worker."""
    from wagtail_journey import record

    record(
        "burst_task",
        email=f"burst{i % CONTACTS}@example.com",
        dedupe_key=f"burst:{i}",
        properties={"i": i},
    )
    return i


def enqueue(group: str, first: int, count: int) -> None:
    from django_q.tasks import async_task

    from wagtail_journey import record

    for i in range(first, first + count):
        async_task("tests.worker_burst.burst_task", i, group=group, task_name=f"{group}-{i}")
        record("web_write", email=f"web{i % CONTACTS}@example.com", properties={"i": i})


def track(kind: str, count: int) -> None:
    from django.utils import timezone

    from wagtail_journey.models import Visitor
    from wagtail_journey.tracking import buffer

    visitors = [Visitor.objects.create(consented_at=timezone.now()) for _ in range(CONTACTS)]
    for i in range(count):
        item = buffer.item(kind, visitor=visitors[i % CONTACTS], audience_only=False)
        buffer.push({**item, "x": {"i": i}})


def wait(group: str, expected: int, timeout: float) -> dict:
    from django_q.models import OrmQ, Task

    from wagtail_journey.models import Contact, Touchpoint

    started = time.monotonic()
    deadline = started + timeout
    while True:
        done = Task.objects.filter(group=group).count()
        settled = done >= expected and not OrmQ.objects.exists()  # stored and acknowledged
        if settled or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    tasks = Task.objects.filter(group=group)
    task_touchpoints = Touchpoint.objects.filter(kind="burst_task")
    return {
        "waited": round(time.monotonic() - started, 1),
        "succeeded": tasks.filter(success=True).count(),
        "failed": [str(t.result)[:300] for t in tasks.filter(success=False)[:5]],
        "results": sorted(tasks.filter(success=True).values_list("result", flat=True)),
        "task_touchpoints": task_touchpoints.count(),
        "task_indexes": sorted(
            int(p["i"]) for p in task_touchpoints.values_list("properties", flat=True)
        ),
        "web_touchpoints": Touchpoint.objects.filter(kind="web_write").count(),
        "contacts": Contact.objects.filter(email__startswith="burst").count()
        + Contact.objects.filter(email__startswith="web").count(),
        "queued": OrmQ.objects.count(),
    }


def main(argv: list[str]) -> None:
    import django

    django.setup()
    command, group, *args = argv
    if command == "enqueue":
        enqueue(group, int(args[0]), int(args[1]))
    elif command == "track":
        track(group, int(args[0]))
    elif command == "wait":
        print(json.dumps(wait(group, int(args[0]), float(args[1]))))
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
