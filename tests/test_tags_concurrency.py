"""Concurrent tagging on PostgreSQL with real threads (issue 9, item 9).

Without the contact lock, each request read "not tagged yet" and added the tag
and its ``tag_added`` touchpoint: duplicates that flows and segments count.
"""

import threading

import pytest
from django.db import connection
from taggit.models import Tag

from tests.forms_helpers import make_landing_page, make_purposes, submit_at_once
from tests.threads import run_in_threads
from wagtail_journey.identity import get_or_create_contact
from wagtail_journey.models import Contact, FormSubmission, TaggedContact, Touchpoint
from wagtail_journey.tags import add_tags

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

N = 6


def test_concurrent_submissions_for_an_existing_contact_tag_it_once(home_page):
    assert connection.vendor == "postgresql"
    page = make_landing_page(home_page, make_purposes())  # the form tags: newsletter, webinar
    contact, _ = get_or_create_contact("ana@example.com")
    statuses = submit_at_once(page, {"email": "Ana@example.com", "consent_privacy": "on"}, N)
    assert all(s in (200, 302, 303) for s in statuses) and len(statuses) == N
    assert FormSubmission.objects.filter(contact=contact).count() == N
    assert sorted(contact.tags.names()) == ["newsletter", "webinar"]
    assert TaggedContact.objects.filter(content_object=contact).count() == 2
    added = Touchpoint.objects.filter(kind="tag_added", contact=contact)
    assert sorted(tp.properties["tag"] for tp in added) == ["newsletter", "webinar"]


def test_one_new_tag_in_any_case_from_many_contacts_at_once():
    contacts = [Contact.objects.create(email=f"c{i}@example.com") for i in range(N)]
    spellings = ["VIP", "vip", "Vip", "vIP", "VIP", "vip"]
    queue = list(zip(contacts, spellings, strict=True))
    lock = threading.Lock()

    def tag():
        with lock:
            contact, name = queue.pop()
        add_tags(contact, name)

    assert run_in_threads(tag, N) == []
    assert Tag.objects.filter(name__iexact="vip").count() == 1
    assert TaggedContact.objects.count() == N
    assert Touchpoint.objects.filter(kind="tag_added").count() == N


def test_one_contact_tagged_by_many_requests_at_once():
    contact = Contact.objects.create(email="ana@example.com")
    add_tags(contact, "existing")

    def tag():
        add_tags(contact, "VIP", "existing", "webinar")

    assert run_in_threads(tag, N) == []
    assert sorted(contact.tags.names()) == ["VIP", "existing", "webinar"]
    assert Touchpoint.objects.filter(kind="tag_added", contact=contact).count() == 3
