"""Steps that act outside the contact: owners, team notices, webhooks, other flows."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from tests.flows.conftest import consented
from tests.flows.helpers import make_flow, step, trigger
from tests.flows.webhook_server import HookServer
from wagtail_journey.emails.sending import send_due
from wagtail_journey.flows.engine import run_batch, run_due
from wagtail_journey.flows.enrol import enrol
from wagtail_journey.models import Contact, Enrollment, OutboundEmail, StepRun
from wagtail_journey.models.flows import EnrollmentStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def sales(django_user_model):
    group = Group.objects.create(name="Sales")
    users = []
    for name in ("rita", "sam", "tom"):
        user = django_user_model.objects.create_user(name, f"{name}@shop.example", "pw")
        user.groups.add(group)
        users.append(user)
    django_user_model.objects.create_user("idle", "", "pw").groups.add(group)  # no address
    return group, users


def test_leads_are_assigned_in_turn_and_owners_notified(purpose, sales):
    from django.core import mail

    mailoutbox = mail.outbox
    group, users = sales
    flow = make_flow(
        "Lead assignment",
        trigger=trigger("manual"),
        steps=[step("assign_owner", group=str(group.pk), method="round_robin", notify=True)],
    )
    contacts = [consented(purpose, f"lead{i}@example.com") for i in range(4)]
    for contact in contacts:
        enrol(flow, contact)
        run_due()
    owners = [Contact.objects.get(pk=c.pk).owner_id for c in contacts]
    assert owners == [users[0].pk, users[1].pk, users[2].pk, users[0].pk]
    send_due()
    assert sorted(m.to[0] for m in mailoutbox) == sorted(
        ["rita@shop.example", "sam@shop.example", "tom@shop.example", "rita@shop.example"]
    )
    message = mailoutbox[0]
    assert "Lead assignment" in message.subject
    assert f"/{contacts[0].pk}/" in message.body  # a link to the contact, no personal data
    assert "lead0@example.com" not in message.body


def test_least_loaded_picks_the_owner_with_fewest_contacts(purpose, sales):
    group, users = sales
    for i in range(2):
        Contact.objects.create(email=f"own{i}@example.com", owner=users[0])
    Contact.objects.create(email="own9@example.com", owner=users[2])
    flow = make_flow(
        trigger=trigger("manual"),
        steps=[step("assign_owner", group=str(group.pk), method="least_loaded", notify=False)],
    )
    contact = consented(purpose)
    enrol(flow, contact)
    run_due()
    assert Contact.objects.get(pk=contact.pk).owner_id == users[1].pk
    assert not OutboundEmail.objects.exists()


def test_notify_team_emails_every_member(purpose, sales):
    group, _users = sales
    flow = make_flow(
        trigger=trigger("manual"),
        steps=[step("notify_team", group=str(group.pk), message="Call them today")],
    )
    enrol(flow, consented(purpose))
    run_due()
    assert OutboundEmail.objects.filter(message="flow_notice", purpose__isnull=True).count() == 3


@pytest.fixture
def hook():
    server = HookServer()
    yield server
    server.close()


def test_webhook_posts_signed_json_and_retries(purpose, hook, settings):
    settings.WAGTAIL_JOURNEY = {"FLOW_WEBHOOK_SECRET": "s3cret", "FLOW_WEBHOOK_RETRY_SECONDS": 30}
    hook.script = [500, 503]
    flow = make_flow("CRM", trigger=trigger("manual"), steps=[step("webhook", url=hook.url)])
    contact = consented(purpose, first_name="Ana")
    enrollment = enrol(flow, contact)
    run_due()
    assert len(hook.requests) == 1
    enrollment.refresh_from_db()
    assert enrollment.waiting and enrollment.attempts == 1
    run_batch(now=timezone.now() + timedelta(seconds=31))
    run_batch(now=timezone.now() + timedelta(seconds=92))
    assert len(hook.requests) == 3
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.COMPLETED
    last = hook.requests[-1]
    headers = {k.lower(): v for k, v in last["headers"].items()}
    expected = hmac.new(
        b"s3cret", headers["x-journey-timestamp"].encode() + b"." + last["body"], hashlib.sha256
    ).hexdigest()
    assert headers["x-journey-signature"] == f"sha256={expected}"
    assert headers["idempotency-key"] == hook.requests[0]["headers"]["Idempotency-Key"]
    assert last["json"]["contact"]["email"] == "ana@example.com"
    assert last["json"]["flow"] == {"id": flow.pk, "name": "CRM"}
    assert StepRun.objects.get().detail == {"status": 200, "attempts": 3}


def test_enrol_in_another_flow(purpose):
    other = make_flow("Other", trigger=trigger("manual"), steps=[step("add_tag", tag="other")])
    flow = make_flow(trigger=trigger("manual"), steps=[step("enrol_flow", flow=other.pk)])
    contact = consented(purpose)
    enrol(flow, contact)
    run_due()
    assert Enrollment.objects.filter(flow=other, contact=contact).exists()
    run_due()
    assert list(contact.tags.names()) == ["other"]
