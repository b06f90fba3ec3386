"""What a visitor does in the preference centre: consents with their history, unsubscribe
from everything, correct their details, object, ask for erasure; CSRF on every POST."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from tests.privacy.conftest import open_centre
from wagtail_journey.models import ConsentPurpose, ConsentRecord, Contact, Touchpoint
from wagtail_journey.privacy.consent import has_consent

pytestmark = pytest.mark.django_db

CENTRE = "/journey/preferences/"


@pytest.fixture
def centre(client, ana):
    open_centre(client, ana)
    return client


def test_consents_show_by_purpose_with_their_history(centre, ana):
    page = centre.get(CENTRE).content.decode()
    assert "Privacy policy" in page and "Marketing emails" in page
    assert page.count("Status: granted") == 2
    assert "version 1" in page and "Send me marketing emails." in page
    assert "Withdraw “Marketing emails”" in page


def test_withdrawing_is_one_click_and_recorded(centre, ana, purposes):
    response = centre.post(CENTRE, {"action": "withdraw", "purpose": "marketing"})
    assert response.status_code == 302
    assert not has_consent(ana, "marketing")
    rec = ConsentRecord.objects.filter(contact=ana, purpose__key="marketing").first()
    assert (rec.action, rec.method) == ("withdrawn", "preference_centre")
    assert rec.text_shown == "<p>Send me marketing emails.</p>"
    assert Touchpoint.objects.filter(contact=ana, kind="consent_withdrawn").count() == 1
    page = centre.get(response["Location"]).content.decode()
    assert "Your consent is withdrawn." in page
    assert "Grant “Marketing emails”" in page
    # Twice is nothing more.
    centre.post(CENTRE, {"action": "withdraw", "purpose": "marketing"})
    assert ConsentRecord.objects.filter(contact=ana, action="withdrawn").count() == 1


def test_granting_a_double_opt_in_purpose_sends_its_confirmation(centre, ana, purposes, committed):
    centre.post(CENTRE, {"action": "withdraw", "purpose": "marketing"})
    with committed():
        response = centre.post(CENTRE, {"action": "grant", "purpose": "marketing"})
    assert response["Location"].endswith("?done=pending")
    assert not has_consent(ana, "marketing")  # counts once confirmed
    assert "Status: waiting for your confirmation" in centre.get(CENTRE).content.decode()
    assert mail.outbox[-1].subject == "Please confirm your subscription"


def test_granting_a_purpose_without_double_opt_in_counts_at_once(centre, ana):
    ConsentPurpose.objects.create(name="Surveys", key="surveys", text="<p>Surveys</p>")
    centre.post(CENTRE, {"action": "grant", "purpose": "surveys"})
    assert has_consent(ana, "surveys")
    assert Touchpoint.objects.filter(contact=ana, kind="consent_granted").count() == 1


def test_unsubscribe_from_everything(centre, ana):
    ConsentPurpose.objects.create(
        name="Offers", key="offers", text="<p>Offers</p>", is_marketing=True
    )
    centre.post(CENTRE, {"action": "grant", "purpose": "offers"})
    response = centre.post(CENTRE, {"action": "unsubscribe_all"})
    assert response["Location"].endswith("?done=unsubscribed")
    assert not has_consent(ana, "marketing") and not has_consent(ana, "offers")
    assert has_consent(ana, "privacy")  # not a marketing purpose
    assert Touchpoint.objects.filter(contact=ana, kind="unsubscribed").count() == 1


def test_correcting_details_is_recorded_without_copying_them(centre, ana):
    response = centre.post(
        CENTRE, {"action": "profile", "first_name": "Anna", "last_name": "Silva", "phone": ""}
    )
    assert response.status_code == 302
    ana.refresh_from_db()
    assert (ana.first_name, ana.last_name, ana.phone) == ("Anna", "Silva", "")
    tp = Touchpoint.objects.get(contact=ana, kind="subject_rectified")
    assert tp.properties["fields"] == ["first_name", "last_name", "phone"]
    assert "Anna" not in str(tp.properties) and "Silva" not in str(tp.properties)


def test_bad_details_are_a_translated_error_and_store_nothing(centre, ana):
    response = centre.post(
        CENTRE,
        {"action": "profile", "first_name": "x" * 151, "phone": "call me"},
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "150 caractères" in page
    assert "chiffres" in page  # the phone error, in French
    ana.refresh_from_db()
    assert ana.first_name == "Ana"
    assert not Touchpoint.objects.filter(kind="subject_rectified").exists()


def test_objecting_to_profiling_and_to_direct_marketing(centre, ana):
    centre.post(CENTRE, {"action": "object", "what": "profiling", "on": "1"})
    centre.post(CENTRE, {"action": "object", "what": "marketing", "on": "1"})
    ana.refresh_from_db()
    assert ana.objects_to_profiling_at and ana.objects_to_marketing_at
    page = centre.get(CENTRE).content.decode()
    assert "Withdraw my objection to profiling" in page
    centre.post(CENTRE, {"action": "object", "what": "profiling", "on": "0"})
    ana.refresh_from_db()
    assert ana.objects_to_profiling_at is None and ana.objects_to_marketing_at
    kinds = Touchpoint.objects.filter(contact=ana, kind__startswith="subject_obj")
    assert sorted(kinds.values_list("kind", flat=True)) == [
        "subject_objected",
        "subject_objected",
        "subject_objection_withdrawn",
    ]


def test_erasure_is_asked_by_email_and_confirmed_from_it(centre, ana, committed):
    with committed():
        response = centre.post(CENTRE, {"action": "erase"})
    assert response["Location"].endswith("?done=erase")
    message = mail.outbox[-1]
    assert message.to == ["ana@example.com"]
    assert message.subject == "Confirm the erasure of your data"
    assert "/journey/preferences/erase/" in message.body
    Contact.objects.get(pk=ana.pk)  # nothing erased before the confirmation


def test_a_post_without_a_session_changes_nothing(client, ana):
    response = client.post(CENTRE, {"action": "withdraw", "purpose": "marketing"})
    assert response.status_code == 403
    assert b"ana@example.com" not in response.content
    assert has_consent(ana, "marketing")


@pytest.mark.parametrize(
    "data",
    [
        {"action": "withdraw", "purpose": "marketing"},
        {"action": "grant", "purpose": "marketing"},
        {"action": "unsubscribe_all"},
        {"action": "profile", "first_name": "Mallory"},
        {"action": "object", "what": "profiling", "on": "1"},
        {"action": "export"},
        {"action": "erase"},
        {"action": "request_link", "email": "ana@example.com"},
    ],
)
def test_every_post_needs_the_csrf_token(ana, data):
    from tests.privacy.conftest import path_of
    from wagtail_journey.privacy import preferences

    browser = Client(enforce_csrf_checks=True)
    open_path = path_of(preferences.requested_link(ana.pk))
    page = browser.get(open_path)
    token = page.context["csrf_token"]
    assert browser.post(open_path, {"csrfmiddlewaretoken": str(token)}).status_code == 302
    assert browser.post(CENTRE, data).status_code == 403
    ana.refresh_from_db()
    assert ana.first_name == "Ana" and has_consent(ana, "marketing")
    assert not mail.outbox


def test_opening_a_link_needs_the_csrf_token(ana):
    from tests.privacy.conftest import path_of
    from wagtail_journey.privacy import preferences

    browser = Client(enforce_csrf_checks=True)
    response = browser.post(path_of(preferences.requested_link(ana.pk)))
    assert response.status_code == 403
    assert preferences.SESSION_COOKIE not in response.cookies


def test_a_withdrawal_stops_marketing_already_queued(centre, ana, purposes):
    """A message queued before the withdrawal (a flow's next step, a broadcast) is
    skipped at the send-time gate, with the reason."""
    from tests.emails.conftest import queue_newsletter
    from wagtail_journey.emails import sending
    from wagtail_journey.models.outbound import OutboundReason, OutboundStatus

    later = timezone.now() + timedelta(minutes=5)
    row = queue_newsletter(ana, purposes[1], due_at=later)
    centre.post(CENTRE, {"action": "withdraw", "purpose": "marketing"})
    sending.send_batch(ids=[row.pk], now=later)
    row.refresh_from_db()
    assert (row.status, row.reason) == (OutboundStatus.SKIPPED, OutboundReason.NO_CONSENT)
    assert not mail.outbox
