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
    """COUNT consented contacts, one newsletter queued to each (one delivery task each).

    Set-based (bulk inserts, as an import would): the web side must be done in
    seconds even on a loaded machine, while the clusters already run.
    """
    from django.db import transaction
    from django.utils import timezone

    from tests.forms_helpers import make_purposes
    from wagtail_journey.emails import sending
    from wagtail_journey.models import ConsentRecord, Contact, OutboundEmail
    from wagtail_journey.privacy.consent import record_consent

    with transaction.atomic():
        _, marketing = make_purposes()
        contacts = Contact.objects.bulk_create(
            Contact(email=f"k{i}@example.com") for i in range(count)
        )
        proto = record_consent(contacts[0], marketing, "granted", method="form")
        proto.confirmed_at = timezone.now()
        proto.save()
        fields = {
            f.attname: getattr(proto, f.attname)
            for f in ConsentRecord._meta.concrete_fields
            if not f.primary_key and f.attname != "contact_id"
        }
        ConsentRecord.objects.bulk_create(
            ConsentRecord(contact_id=c.pk, **fields) for c in contacts[1:]
        )
        rows = OutboundEmail.objects.bulk_create(
            OutboundEmail(
                idempotency_key=f"test:{c.pk}",
                contact=c,
                purpose=marketing,
                message="demo_newsletter",
                context={},
            )
            for c in contacts
        )
    ids = [r.pk for r in rows]
    for pk in ids:  # what queue() does after commit: one delivery task per message
        sending.deliver.enqueue([pk])
    return {"rows": ids}


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
