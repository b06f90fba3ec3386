"""The web side of tests/flows/test_worker_flows.py, in a process of its own.

    python -m tests.flows.worker_flows start COUNT
        # COUNT consented contacts enrolled in a published 3-email flow with
        # one-minute waits; prints the flow's id as JSON

Needs DJANGO_SETTINGS_MODULE and the example site on the path (the qcluster's settings).
"""

from __future__ import annotations

import json
import sys

SUBJECTS = ("Flow one", "Flow two", "Flow three")


def start(count: int) -> dict:
    from django.db import transaction

    from tests.emails.helpers import make_template, marketing_purpose
    from tests.flows.conftest import consented
    from tests.flows.helpers import make_flow, send, trigger, wait
    from wagtail_journey.flows.enrol import enrol_many
    from wagtail_journey.models import Contact

    with transaction.atomic():
        purpose = marketing_purpose()
        templates = [make_template(name=s, subject=s) for s in SUBJECTS]
        flow = make_flow(
            "Three emails",
            trigger=trigger("manual"),
            steps=[
                send(templates[0]),
                wait(1, "minutes"),
                send(templates[1]),
                wait(1, "minutes"),
                send(templates[2]),
            ],
        )
        for i in range(count):
            consented(purpose, f"f{i}@example.com")
        enrolled = enrol_many(flow, Contact.objects.all())
    return {"flow": flow.pk, "enrolled": enrolled}


def main(argv: list[str]) -> None:
    import django

    django.setup()
    command, *args = argv
    if command == "start":
        print(json.dumps(start(int(args[0]))))
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
