"""Two identical submissions at the same moment (PostgreSQL): one contact, two submissions."""

import threading

import pytest
from django.db import connection
from django.test import Client

from tests.forms_helpers import form_id, hidden_values, make_landing_page, make_purposes
from tests.threads import run_in_threads
from wagtail_journey.models import ConsentRecord, Contact, FormSubmission, Touchpoint

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_same_email_in_different_case_at_the_same_moment(home_page):
    assert connection.vendor == "postgresql"
    page = make_landing_page(home_page, make_purposes())
    block = form_id(page)
    emails = ["Ana@Example.com", "ana@example.COM", " ANA@example.com", "ana@example.com"]
    clients, payloads = [], []
    for i, email in enumerate(emails):
        client = Client(REMOTE_ADDR=f"198.51.100.{i + 1}")
        html = client.get(page.url).content.decode()
        payloads.append({**hidden_values(html, block), "email": email, "consent_privacy": "on"})
        clients.append(client)

    barrier = threading.Barrier(len(emails))
    statuses: list[int] = []

    def submit(client, payload):
        try:
            barrier.wait(timeout=10)
            statuses.append(client.post(page.url, payload).status_code)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=submit, args=pair) for pair in zip(clients, payloads, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert statuses == [303] * len(emails)
    assert Contact.objects.count() == 1
    contact = Contact.objects.get()
    assert contact.email == "ana@example.com"
    assert FormSubmission.objects.filter(contact=contact).count() == len(emails)
    assert ConsentRecord.objects.filter(contact=contact).count() == 2 * len(emails)
    assert Touchpoint.objects.filter(kind="form_submitted", contact=contact).count() == len(emails)


@pytest.mark.parametrize("backend", ["database", "cache"])
def test_rate_limit_counter_is_atomic_under_concurrency(db, settings, backend):
    from wagtail_journey.ratelimit import hit

    settings.WAGTAIL_JOURNEY = {**settings.WAGTAIL_JOURNEY, "RATE_LIMIT_BACKEND": backend}

    results: list[bool] = []

    def worker():
        for _ in range(5):
            results.append(hit(f"test-{backend}", "203.0.113.9", 20, 3600))

    assert run_in_threads(worker, 8) == []
    # 40 hits against a limit of 20: exactly 20 allowed, none lost or double-counted.
    assert results.count(True) == 20
    assert len(results) == 40


def test_one_rendered_form_sent_four_times_at_once_is_stored_once(home_page):
    """A double click (or a retrying connection) sends one rendered form several times."""
    assert connection.vendor == "postgresql"
    page = make_landing_page(home_page, make_purposes())
    block = form_id(page)
    html = Client().get(page.url).content.decode()
    payload = {**hidden_values(html, block), "email": "twice@example.com", "consent_privacy": "on"}
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def submit():
        try:
            barrier.wait(timeout=10)
            statuses.append(Client().post(page.url, payload).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert statuses == [303] * 4  # every sender sees the success page
    assert FormSubmission.objects.count() == 1
    assert ConsentRecord.objects.count() == 2
    assert Touchpoint.objects.filter(kind="form_submitted").count() == 1
