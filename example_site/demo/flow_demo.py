"""Demo flows (load_demo): the welcome flow wired to the guide form's marketing
consent, and a cart abandonment flow fed by the demo shop's cart events.

Both are published; a few demo contacts are already inside, so the flows'
overview shows contacts at their steps. Idempotent: an existing flow of the
same name is left as it is.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from wagtail_journey.flows.enrol import enrol
from wagtail_journey.flows.presets import create_from_preset
from wagtail_journey.models import Contact, EmailTemplate, Enrollment, Flow, StepRun

WELCOME = "Welcome"
CART = "Cart abandonment"


def _welcome_flow() -> Flow:
    welcome = EmailTemplate.objects.get(name="Welcome")
    newsletter = EmailTemplate.objects.get(name="Monthly newsletter")
    flow = Flow(
        name=WELCOME,
        description="The guide form's subscribers get a welcome once they confirm their "
        "marketing consent, then the newsletter three days later (weekdays, 9:00 to 17:00 "
        "in their time zone).",
        trigger=[
            {
                "type": "event",
                "value": {
                    "kind": "consent_confirmed",
                    "filters": [{"key": "purpose", "op": "eq", "value": "marketing"}],
                },
            }
        ],
        steps=[
            {"type": "send_email", "value": {"template": welcome.pk}},
            {
                "type": "wait",
                "value": {
                    "duration": {"amount": 3, "unit": "days"},
                    "weekdays": ["0", "1", "2", "3", "4"],
                    "start": "09:00:00",
                    "end": "17:00:00",
                },
            },
            {"type": "send_email", "value": {"template": newsletter.pk}},
        ],
        goals=[],
    )
    flow.save()
    flow.save_revision().publish()
    flow.refresh_from_db()
    return flow


def _cart_flow() -> Flow:
    flow = create_from_preset("cart", language="en")
    for template in EmailTemplate.objects.filter(name__startswith=f"{CART} ", live=False):
        template.get_latest_revision().publish()
    flow.get_latest_revision().publish()
    flow.refresh_from_db()
    return flow


def load_flow_demo() -> None:
    if Flow.objects.filter(name=WELCOME).exists():
        return
    welcome = _welcome_flow()
    cart = _cart_flow()
    # History for the overview: Ana (confirmed marketing consent, load_demo) had
    # her welcome and waits for the newsletter; Jean's cart is waiting its hour.
    # No step runs here: the demo's worker runs what falls due.
    ana = Contact.objects.filter(email="ana.silva@example.com").first()
    jean = Contact.objects.filter(email="jean.dupont@example.org").first()
    if ana is not None:
        enrollment = enrol(welcome, ana, source="manual")
        first, wait = list(welcome.steps.raw_data)[:2]
        now = timezone.now()
        StepRun.objects.create(
            enrollment=enrollment, flow=welcome, step_id=first["id"], visit=1, outcome="next"
        )
        Enrollment.objects.filter(pk=enrollment.pk).update(
            step_id=wait["id"],
            visit=2,
            waiting=True,
            step_entered_at=now,
            next_run_at=now + timedelta(days=3),
        )
    if jean is not None:
        enrol(cart, jean, at=timezone.now(), source="trigger")
