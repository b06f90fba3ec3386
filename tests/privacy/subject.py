"""A contact with history everywhere the package writes: the subject of the privacy tests.

Built the way visitors and editors make it: anonymous page views of a browser,
a form posted through the site (IP and user agent recorded as proof), the
double opt-in link confirmed from that browser (its history joins the
contact), a marketing email sent through anymail's test backend and its link
clicked, a scoring rule, a static segment, tags, Wagtail audit entries, and
django-q2 task rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from tests.forms_helpers import form_id, hidden_values, make_landing_page, make_purposes
from wagtail_journey.models import ConsentRecord, Contact, ScoringRule, Segment, Visitor

EMAIL = "zorbaline.quenneville@example.org"
FIRST = "Zorbaline"
LAST = "Quenneville"
PHONE = "+351 912 345 678"
IP = "198.51.100.23"
#: What a truncated (/24) or full IP shares: found in either form by a text scan.
IP_PREFIX = "198.51.100"
NEEDLES = (EMAIL, FIRST, LAST, PHONE, IP_PREFIX)


@dataclass
class Subject:
    contact: Contact
    visitor: Visitor
    landing: object
    segment: Segment
    outbound: object


def build_subject(client, home_page, capture) -> Subject:
    from wagtail.log_actions import log

    from tests.emails.helpers import make_template
    from wagtail_journey.emails.sending import queue_template, send_batch
    from wagtail_journey.events import record
    from wagtail_journey.privacy.double_opt_in import confirm, make_token
    from wagtail_journey.segments import add_static_members

    privacy, marketing = make_purposes()
    ScoringRule.objects.create(name="Signed up", kind="form_submitted", points=10)
    ScoringRule.objects.create(name="Read", kind="page_view", points=1)
    landing = make_landing_page(home_page, [privacy, marketing])

    # Anonymous browsing before anyone knows who it is.
    visitor = Visitor.objects.create(consented_at=timezone.now())
    for _ in range(3):
        record("page_view", visitor=visitor, page=landing, utm={"utm_source": "newsletter"})

    # The form, through the site.
    block = form_id(landing)
    html = client.get(landing.url).content.decode()
    with capture(execute=True):
        response = client.post(
            landing.url,
            {
                **hidden_values(html, block),
                "wj_form": block,
                "email": EMAIL,
                "first_name": FIRST,
                "message": f"I am {FIRST} {LAST}, call me on {PHONE}",
                "consent_privacy": "on",
                "consent_marketing": "on",
            },
            HTTP_USER_AGENT=f"Mozilla/5.0 ({FIRST}'s laptop)",
            REMOTE_ADDR=IP,
        )
    assert response.status_code == 303, response.content[:500]
    contact = Contact.objects.get(email=EMAIL)
    Contact.objects.filter(pk=contact.pk).update(last_name=LAST, phone=PHONE)

    # The double opt-in link, confirmed from the same browser: its history joins.
    pending = ConsentRecord.objects.get(contact=contact, purpose=marketing)
    with capture(execute=True):
        confirm(make_token(pending), visitor=visitor)
    contact.refresh_from_db()

    segment = Segment.objects.create(name="VIP", kind=Segment.Kind.STATIC)
    add_static_members(segment, [contact.pk])
    contact.tags.add("vip")

    # A marketing email, sent, and its link clicked.
    template = make_template()
    outbound, _ = queue_template(template, contact, idempotency_key="privacy-subject")
    send_batch(ids=[outbound.pk])
    outbound.refresh_from_db()
    from wagtail_journey.emails.clicks import record_click

    record_click(_click_request(visitor), _click(outbound), contact)

    # Enrolled in a flow, which ran its first steps (a tag, then a wait).
    from tests.flows.helpers import make_flow, step, wait
    from wagtail_journey.flows.engine import run_batch
    from wagtail_journey.flows.enrol import enrol

    flow = make_flow("Nurture", steps=[step("add_tag", tag="nurtured"), wait(3, "days")])
    enrollment = enrol(flow, contact, source="manual")
    assert enrollment is not None
    run_batch(ids=[enrollment.pk])
    assert enrollment.step_runs.exists()

    # Audit entries (the default title is the contact's name) and a failed task row.
    log(contact, "wagtail.edit")
    _failed_task(contact)
    return Subject(contact, visitor, landing, segment, outbound)


def _click_request(visitor):
    from django.test import RequestFactory

    request = RequestFactory().get(
        "/journey/email/click/x/", HTTP_USER_AGENT="Mozilla/5.0 Firefox/140", REMOTE_ADDR=IP
    )
    request.COOKIES["wj_vid"] = visitor.key
    return request


def _click(outbound):
    import time

    from wagtail_journey.emails.clicks import Click

    return Click(outbound.pk, "https://shop.example/sale", time.time() - 3600)


def _failed_task(contact) -> None:
    """A task row holding the address, as a failed task of the package leaves one."""
    from django_q.humanhash import uuid
    from django_q.models import Task

    name, task_id = uuid()
    now = timezone.now()
    Task.objects.create(
        id=task_id,
        name=name,
        func="wagtail_journey.events.run_deferred",
        args=(contact.pk,),
        kwargs={},
        result=f"Traceback ... contact {contact.email} ({contact.first_name})",
        started=now,
        stopped=now,
        success=False,
    )
