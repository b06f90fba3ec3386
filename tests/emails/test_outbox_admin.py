"""The outbox (read-only, reasons, re-rendered preview) and the suppression list in the admin."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from wagtail.models import ModelLogEntry

from tests.emails.conftest import consented, queue_newsletter
from wagtail_journey.emails import sending
from wagtail_journey.emails.suppression import is_suppressed, suppress
from wagtail_journey.models import OutboundEmail, Suppression
from wagtail_journey.privacy.consent import record_consent

pytestmark = pytest.mark.django_db

OUTBOX = "wagtail_journey_outboundemail"
SUPPRESSIONS = "wagtail_journey_suppression"


@pytest.fixture
def admin(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def rows(marketing):
    ana = consented(marketing, "ana@example.com", "Ana")
    bob = consented(marketing, "bob@example.com", "Bob")
    sent = queue_newsletter(ana, marketing)
    skipped = queue_newsletter(bob, marketing)
    record_consent(bob, marketing, "withdrawn", method="preference_centre")
    sending.send_due()
    sent.refresh_from_db()
    skipped.refresh_from_db()
    return sent, skipped


def test_outbox_lists_status_and_reason_and_filters(admin, rows):
    response = admin.get(reverse(f"{OUTBOX}:list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "ana@example.com" in html and "bob@example.com" in html
    assert "No valid consent for the template&#x27;s purpose" in html
    only_skipped = admin.get(reverse(f"{OUTBOX}:list"), {"status": "4"}).content.decode()
    assert "bob@example.com" in only_skipped and "ana@example.com" not in only_skipped


def test_outbox_inspect_shows_the_reason_and_a_rendered_preview(admin, rows):
    sent, skipped = rows
    page = admin.get(reverse(f"{OUTBOX}:inspect", args=[skipped.pk])).content.decode()
    assert "data-wj-outbox-reason" in page
    assert reverse(f"{OUTBOX}:preview", args=[skipped.pk]) in page
    preview_url = reverse(f"{OUTBOX}:preview", args=[sent.pk])
    frame = admin.get(preview_url)
    assert frame.status_code == 200
    assert b"Hello Ana!" in frame.content
    assert "sandbox" in frame["Content-Security-Policy"]
    assert b"/journey/unsubscribe/" not in frame.content  # a preview unsubscribes nobody


def test_outbox_cannot_be_edited_or_deleted(admin, rows):
    sent, _ = rows
    assert admin.get(reverse(f"{OUTBOX}:edit", args=[sent.pk])).status_code in (302, 403)
    assert admin.post(reverse(f"{OUTBOX}:delete", args=[sent.pk])).status_code in (302, 403)
    assert admin.get(reverse(f"{OUTBOX}:add")).status_code in (302, 403)
    assert OutboundEmail.objects.filter(pk=sent.pk).exists()


def test_outbox_needs_a_permission(client, django_user_model, rows):
    sent, _ = rows
    editor = django_user_model.objects.create_user("ed", password="x")
    group = Group.objects.create(name="Outbox readers")
    group.permissions.add(Permission.objects.get(codename="access_admin"))
    editor.groups.add(group)
    client.force_login(editor)
    for url in (
        reverse(f"{OUTBOX}:list"),
        reverse(f"{OUTBOX}:inspect", args=[sent.pk]),
        reverse(f"{OUTBOX}:preview", args=[sent.pk]),
    ):
        response = client.get(url)
        assert response.status_code in (302, 403), url
        assert b"Hello Ana" not in response.content
    group.permissions.add(Permission.objects.get(codename="view_outboundemail"))
    assert client.get(reverse(f"{OUTBOX}:preview", args=[sent.pk])).status_code == 200


def test_editor_adds_and_removes_a_suppressed_address_with_a_reason(admin):
    response = admin.post(
        reverse(f"{SUPPRESSIONS}:add"),
        {"address": " Eve@Example.com ", "source": "editor", "reason": "Asked by phone"},
    )
    assert response.status_code == 302
    row = Suppression.objects.get()
    assert (row.address, row.reason) == ("eve@example.com", "Asked by phone")
    assert is_suppressed("eve@example.com")
    listing = admin.get(reverse(f"{SUPPRESSIONS}:list")).content.decode()
    assert "eve@example.com" in listing and "Asked by phone" in listing
    # The audit log keeps no address.
    assert not ModelLogEntry.objects.filter(label__icontains="eve@").exists()
    admin.post(reverse(f"{SUPPRESSIONS}:delete", args=[row.pk]))
    assert not is_suppressed("eve@example.com")


@pytest.mark.parametrize(
    ("address", "message"),
    [("not an address", "Enter a valid email address."), ("ANA@example.com", "already on")],
)
def test_bad_or_duplicate_addresses_get_a_clear_error(admin, address, message):
    suppress("ana@example.com", "bounce")
    response = admin.post(
        reverse(f"{SUPPRESSIONS}:add"), {"address": address, "source": "editor", "reason": ""}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Suppression.objects.count() == 1


def test_code_built_messages_are_named_in_words_in_the_outbox(admin):
    from django.utils import translation

    from wagtail_journey.emails.sending import queue
    from wagtail_journey.identity import get_or_create_contact

    contact, _ = get_or_create_contact("carla@example.com")
    queue(idempotency_key="doi:test", contact=contact, message="double_opt_in", due_at=None)
    html = admin.get(reverse(f"{OUTBOX}:list")).content.decode()
    assert "Double opt-in confirmation" in html and "double_opt_in" not in html
    with translation.override("fr"):
        french = admin.get(reverse(f"{OUTBOX}:list"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Confirmation d’inscription (double opt-in)" in french
