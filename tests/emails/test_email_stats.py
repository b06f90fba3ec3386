"""Statistics per template and per broadcast: what editors read, and the CSV they download."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from tests.emails.conftest import consented
from tests.emails.helpers import make_template, marketing_purpose
from tests.emails.test_webhooks import (
    SECRET,
    postmark,
    postmark_bounce,
    postmark_delivery,
    sendgrid,
    sendgrid_event,
)
from wagtail_journey.emails import sending, stats
from wagtail_journey.emails.sending import queue_template
from wagtail_journey.models import OutboundEmail

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0"


@pytest.fixture(autouse=True)
def _secret(settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}


@pytest.fixture
def sent():
    """One template sent to four people, an hour ago."""
    purpose = marketing_purpose()
    template = make_template(name='=HYPERLINK("https://evil.example")')
    rows = []
    for i in range(4):
        contact = consented(purpose, f"s{i}@example.com", f"S{i}")
        rows.append(queue_template(template, contact, idempotency_key=f"stats:{i}")[0])
    sending.send_due()
    OutboundEmail.objects.update(sent_at=timezone.now() - timedelta(hours=1))
    for row in rows:
        row.refresh_from_db()
    return template, rows


def click_link(client, message, user_agent):
    link = re.search(
        r'href="http://testserver(/journey/email/click/[^"]+)"',
        message.body + str(message.alternatives[0][0]),
    )
    return client.get(link.group(1), HTTP_USER_AGENT=user_agent)


def test_each_event_counts_once_in_its_column_people_and_machines_apart(client, sent):
    template, (delivered, bounced, complained, unsubscribed) = sent
    for row in sent[1]:
        OutboundEmail.objects.filter(pk=row.pk).update(esp_message_id=f"id-{row.pk}")
        row.refresh_from_db()
    when = int((delivered.sent_at + timedelta(minutes=30)).timestamp())
    assert postmark(client, postmark_delivery(delivered)).status_code == 200
    human_open = sendgrid_event(delivered, "open", "o1", useragent=BROWSER, timestamp=when)
    sendgrid(client, [human_open, {**human_open, "sg_event_id": "o2"}])  # opened twice
    proxy = sendgrid_event(bounced, "open", "o3", sg_machine_open=True, timestamp=when)
    sendgrid(client, [proxy])
    postmark(client, postmark_bounce(bounced))
    complaint = postmark_bounce(complained, "SpamComplaint", "SpamComplaint", 512)
    postmark(client, {**complaint, "ID": 4323372036854775000})
    postmark(client, postmark_delivery(complained))  # arrives late: changes nothing
    by_contact = {m.to[0]: m for m in mail.outbox}
    assert click_link(client, by_contact[delivered.contact.email], BROWSER).status_code == 302
    scanner = "Mozilla/5.0 (compatible; Barracuda Sentinel)"
    click_link(client, by_contact[unsubscribed.contact.email], scanner)
    url = by_contact[unsubscribed.contact.email].extra_headers["List-Unsubscribe"].strip("<>")
    client.post(
        url.removeprefix("http://testserver"),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    counts = stats.for_template(template).counts
    assert counts == {
        "messages": 4,
        "sent": 4,
        "delivered": 2,  # the complaint came from a delivered message
        "opens": 1,
        "clicks": 1,
        "machine_opens": 1,
        "machine_clicks": 1,
        "bounces": 1,
        "complaints": 1,
        "unsubscribes": 1,
        "skipped": 0,
        "failed": 0,
        "waiting": 0,
    }
    assert stats.for_template(template).rates == {"open_rate": 0.25, "click_rate": 0.25}


@pytest.fixture
def admin(client, admin_user):
    client.force_login(admin_user)
    return client


def test_the_template_screen_links_its_statistics_and_the_csv_is_formula_safe(admin, sent):
    template, rows = sent
    edit = admin.get(
        reverse("wagtailsnippets_wagtail_journey_emailtemplate:edit", args=[template.pk])
    )
    url = reverse("wagtailsnippets_wagtail_journey_emailtemplate:stats", args=[template.pk])
    assert url in edit.content.decode()
    page = admin.get(url).content.decode()
    assert "data-wj-email-stats" in page and "Opened (machines)" in page
    response = admin.get(url, {"export": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(response.content.decode())))
    assert table[0][:3] == ["Messages of", "Messages", "Sent"]
    assert table[1][0] == "'" + template.name  # never evaluated by a spreadsheet
    assert table[1][1:3] == ["4", "4"]


def test_broadcast_statistics_have_a_line_per_variant_in_a_few_queries(
    admin, sent, django_assert_max_num_queries
):
    from tests.segment_helpers import group, make_segment, r
    from wagtail_journey.emails import broadcasts
    from wagtail_journey.models import Broadcast, BroadcastVariant

    segment = make_segment("All", group(r("lifecycle_stage", stages=["subscriber"])))
    broadcast = Broadcast.objects.create(
        name="News", template=make_template(name="News"), segment=segment, ab_test_share=100
    )
    for i, subject in enumerate(["One", "Two", "Three"]):
        BroadcastVariant.objects.create(broadcast=broadcast, subject=subject, sort_order=i)
    broadcasts.start(broadcast)
    sending.send_due()
    with django_assert_max_num_queries(3):
        lines = stats.for_broadcast(broadcast)
    assert [line.label for line in lines] == ["All messages", "Variant A", "Variant B", "Variant C"]
    assert [line.counts["sent"] for line in lines] == [4, 2, 1, 1]
    inspect = admin.get(reverse("wagtail_journey_broadcast:inspect", args=[broadcast.pk]))
    url = reverse("wagtail_journey_broadcast:stats", args=[broadcast.pk])
    assert url in inspect.content.decode()
    table = list(csv.reader(io.StringIO(admin.get(url, {"export": "csv"}).content.decode())))
    assert [row[0] for row in table[1:]] == ["All messages", "Variant A", "Variant B", "Variant C"]
