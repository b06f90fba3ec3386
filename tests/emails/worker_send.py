"""The web side of tests/emails/test_worker_email.py, in a process of its own.

    python -m tests.emails.worker_send enqueue COUNT
        # creates COUNT consented contacts and a Wagtail page, queues one
        # newsletter each, enqueues the delivery task a second time for every
        # row (a duplicated delivery), prints the django_tasks results as JSON
    python -m tests.emails.worker_send bulk COUNT
        # COUNT consented contacts and one newsletter queued to each

Needs DJANGO_SETTINGS_MODULE and the example site on the path (the qcluster's settings).
"""

from __future__ import annotations

import json
import sys


def enqueue(count: int) -> dict:
    from django.db import transaction
    from django_tasks.signals import task_enqueued
    from wagtail.models import Page

    from tests.emails.conftest import consented, queue_newsletter
    from tests.forms_helpers import make_purposes
    from wagtail_journey.emails import sending

    results: list[dict] = []

    def remember(sender, task_result, **kwargs):
        results.append({"id": task_result.id, "task": task_result.task.module_path})

    task_enqueued.connect(remember)
    with transaction.atomic():
        _, marketing = make_purposes()
        root = Page.get_first_root_node()
        # Wagtail enqueues its reference index update from post_save.
        page = root.add_child(instance=Page(title="Worker test", slug="worker-test"))
        rows = [
            queue_newsletter(consented(marketing, f"w{i}@example.com", f"W{i}"), marketing)
            for i in range(count)
        ]
    ids = [r.pk for r in rows]
    sending.deliver.enqueue(ids)  # the same work delivered twice
    from tests.test_tasks_backend import explode

    explode.enqueue()  # a failure, read back through get_result
    return {"results": results, "page": page.pk, "rows": ids}


def bulk(count: int) -> dict:
    """COUNT consented contacts, one newsletter queued to each (one delivery task each)."""
    from django.db import transaction

    from tests.emails.conftest import consented, queue_newsletter
    from tests.forms_helpers import make_purposes

    with transaction.atomic():
        _, marketing = make_purposes()
        rows = [
            queue_newsletter(consented(marketing, f"k{i}@example.com"), marketing)
            for i in range(count)
        ]
    return {"rows": [r.pk for r in rows]}


def main(argv: list[str]) -> None:
    import django

    django.setup()
    command, *args = argv
    if command == "enqueue":
        print(json.dumps(enqueue(int(args[0]))))
    elif command == "bulk":
        print(json.dumps(bulk(int(args[0]))))
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
