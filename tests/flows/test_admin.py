"""The flow admin: overview with counts, enrollments, dry run, actions, live edits."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.flows.conftest import consented
from tests.flows.helpers import make_flow, republish, send, step, trigger, wait
from tests.segment_helpers import group, make_segment, r
from wagtail_journey.emails.sending import send_due
from wagtail_journey.flows.engine import run_batch, run_due
from wagtail_journey.flows.enrol import enrol
from wagtail_journey.flows.publishing import apply_publish
from wagtail_journey.models import EmailTemplate, Enrollment, Flow, OutboundEmail
from wagtail_journey.models.flows import EnrollmentStatus, ExitReason

pytestmark = pytest.mark.django_db


def url(name, *args):
    return reverse(f"wagtail_journey_flow:{name}", args=args)


@pytest.fixture
def welcome(purpose, template):
    return make_flow("Welcome", trigger=trigger("manual"), steps=[send(template), wait(2)])


def test_the_overview_counts_contacts_at_each_step(admin_client, purpose, welcome):
    for i in range(3):
        enrol(welcome, consented(purpose, f"c{i}@example.com"))
    run_due()
    send_due()
    html = admin_client.get(url("overview", welcome.pk)).content.decode()
    wait_id = list(welcome.steps.raw_data)[1]["id"]
    send_id = list(welcome.steps.raw_data)[0]["id"]
    assert f'data-wj-step="{wait_id}"' in html
    row = html.split(f'data-wj-step="{wait_id}"', 1)[1].split("</tr>", 1)[0]
    assert "<td data-wj-at>3</td>" in row
    email_row = html.split(f'data-wj-step="{send_id}"', 1)[1].split("</tr>", 1)[0]
    assert "Send an email: Welcome" in email_row and "3 / 0" in email_row


def test_the_enrollments_page_says_who_is_where_and_why_they_left(admin_client, purpose, welcome):
    ana = consented(purpose, "ana@example.com")
    bob = consented(purpose, "bob@example.com")
    enrol(welcome, ana)
    enrol(welcome, bob)
    run_due()
    response = admin_client.post(
        url("act", welcome.pk, "remove"),
        {"enrollment": [Enrollment.objects.get(contact=bob).pk]},
    )
    assert response.status_code == 302
    html = admin_client.get(url("enrollments", welcome.pk)).content.decode()
    assert "ana@example.com" in html and "Removed by an editor" in html
    assert Enrollment.objects.get(contact=bob).exit_reason == ExitReason.MANUAL


def test_pause_resume_and_manual_enrolment(admin_client, purpose, welcome):
    consented(purpose, "vip@example.com").tags.add("vip")
    segment = make_segment("VIP", group(r("tag", tag="vip")))
    admin_client.post(url("act", welcome.pk, "pause"))
    assert Flow.objects.get(pk=welcome.pk).paused
    admin_client.post(url("act", welcome.pk, "enrol"), {"segment": segment.pk})
    assert Enrollment.objects.count() == 1
    assert run_batch()["claimed"] == 0  # paused: nothing runs
    admin_client.post(url("act", welcome.pk, "resume"))
    assert run_batch()["steps"] == 2
    response = admin_client.post(url("act", welcome.pk, "enrol"), {"email": "nobody@x.org"})
    assert response.status_code == 302
    follow = admin_client.get(response["Location"]).content.decode()
    assert "No contact has this address." in follow


def test_a_user_who_may_only_view_cannot_act(client, django_user_model, welcome):
    from django.contrib.auth.models import Group, Permission

    user = django_user_model.objects.create_user("viewer", password="x")
    viewers = Group.objects.create(name="viewers")
    viewers.permissions.add(
        Permission.objects.get(codename="access_admin"),
        Permission.objects.get(codename="view_flow"),
    )
    user.groups.add(viewers)
    client.force_login(user)
    assert client.get(url("overview", welcome.pk)).status_code == 200
    client.post(url("act", welcome.pk, "pause"))
    assert not Flow.objects.get(pk=welcome.pk).paused


def test_the_dry_run_shows_the_path_and_sends_nothing(admin_client, purpose, template):
    flow = make_flow(
        trigger=trigger("manual"),
        steps=[
            wait(1),
            step(
                "condition",
                match="all",
                rules=[group(r("tag", tag="vip"))],
                yes=[send(template)],
                no=[step("add_tag", tag="regular")],
            ),
        ],
    )
    contact = consented(purpose, first_name="Ana")
    contact.tags.add("vip")
    html = admin_client.get(url("dry_run", flow.pk) + f"?contact={contact.pk}").content.decode()
    assert "Welcome, Ana" in html  # the subject as Ana would read it
    assert "Condition: yes" in html
    assert "Reaches the end of the flow" in html
    assert not OutboundEmail.objects.exists() and not Enrollment.objects.exists()


def test_a_template_used_by_a_flow_cannot_be_deleted(admin_client, welcome, template):
    delete = reverse("wagtailsnippets_wagtail_journey_emailtemplate:delete", args=[template.pk])
    response = admin_client.post(delete)
    assert response.status_code == 302
    assert EmailTemplate.objects.filter(pk=template.pk).exists()
    html = admin_client.get(response["Location"]).content.decode()
    assert "Welcome" in html and "sent by the flows" in html


def test_publishing_with_move_keeps_places_and_reruns_nothing(purpose, template):
    flow = make_flow(
        trigger=trigger("manual"),
        steps=[step("add_tag", tag="first"), wait(1), step("add_tag", tag="old")],
    )
    waiting = consented(purpose, "w@example.com")
    enrol(flow, waiting)
    run_due()
    steps = list(flow.steps.raw_data)
    steps[2] = {**steps[2], "value": {"tag": "new"}}
    flow = republish(flow, steps=steps)
    counts = apply_publish(flow.pk, flow.live_revision_id, "move")
    assert counts == {"moved": 1, "continued": 0}
    from datetime import timedelta

    from django.utils import timezone

    run_batch(now=timezone.now() + timedelta(days=1, minutes=1))
    assert sorted(waiting.tags.names()) == ["first", "new"]  # "first" did not run twice
    assert Enrollment.objects.get().status == EnrollmentStatus.COMPLETED


def test_contacts_at_a_removed_step_go_on_to_the_next_remaining_one(purpose):
    flow = make_flow(
        trigger=trigger("manual"),
        steps=[wait(1), step("add_tag", tag="after")],
    )
    contact = consented(purpose)
    enrol(flow, contact)
    run_due()
    steps = list(flow.steps.raw_data)[1:]  # the wait is removed
    flow = republish(flow, steps=steps)
    assert apply_publish(flow.pk, flow.live_revision_id, "move", "next") == {
        "moved": 0,
        "continued": 1,
    }
    run_due()
    assert list(contact.tags.names()) == ["after"]


def test_or_leave_when_the_editor_says_so(purpose):
    flow = make_flow(trigger=trigger("manual"), steps=[wait(1), step("add_tag", tag="x")])
    enrol(flow, consented(purpose))
    run_due()
    flow = republish(flow, steps=list(flow.steps.raw_data)[1:])
    apply_publish(flow.pk, flow.live_revision_id, "move", "exit")
    assert Enrollment.objects.get().exit_reason == ExitReason.MOVED


def test_a_segment_a_flow_is_triggered_by_cannot_be_deleted(admin_client):
    from wagtail_journey.models import Segment

    segment = make_segment("Hot leads", group(r("tag", tag="hot")))
    make_flow("Hot follow-up", trigger=trigger("segment_entered", segment=str(segment.pk)))
    delete = reverse("wagtail_journey_segment_modeladmin_delete", args=[segment.pk])
    response = admin_client.post(delete)
    assert response.status_code == 302
    assert Segment.objects.filter(pk=segment.pk).exists()
    html = admin_client.get(response["Location"]).content.decode()
    assert "Hot follow-up" in html and "used by the flows" in html
