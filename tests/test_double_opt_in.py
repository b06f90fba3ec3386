"""Double opt-in: the emailed link confirms marketing consent, once, and only if genuine."""

import re

import pytest
from django.core import mail, signing

from tests.forms_helpers import make_purposes
from wagtail_journey.identity import get_or_create_contact
from wagtail_journey.models import ConsentRecord, Touchpoint
from wagtail_journey.privacy.consent import contacts_with_consent, has_consent, record_consent
from wagtail_journey.privacy.double_opt_in import make_token, send_confirmation

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(db):
    _, marketing = make_purposes()
    contact, _ = get_or_create_contact("doi@example.com")
    record = record_consent(contact, marketing, "granted", method="form")
    return record


def link_from_mail() -> str:
    return re.search(r"http://testserver(/journey/confirm/[^/\s]+/)", mail.outbox[-1].body).group(1)


def test_confirmation_email_is_sent_once_even_if_the_task_runs_twice(pending):
    assert send_confirmation(pending.pk, "http://testserver/", "en") is True
    assert send_confirmation(pending.pk, "http://testserver/", "en") is False
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "Please confirm your subscription"
    assert message.to == ["doi@example.com"]
    assert message.alternatives and "Confirm" in message.alternatives[0][0]


def test_confirmation_email_in_the_visitors_language(pending):
    send_confirmation(pending.pk, "http://testserver/", "fr")
    assert mail.outbox[0].subject == "Merci de confirmer votre inscription"


def test_unconfirmed_marketing_consent_does_not_count(pending):
    assert not has_consent(pending.contact, "marketing")
    assert not contacts_with_consent("marketing").exists()


def test_link_asks_then_confirms_and_records_a_touchpoint(client, pending):
    send_confirmation(pending.pk, "http://testserver/", "en")
    url = link_from_mail()
    page = client.get(url)
    assert page.status_code == 200
    assert "Yes, confirm" in page.content.decode()
    pending.refresh_from_db()
    assert pending.confirmed_at is None  # a GET (mail scanner) confirms nothing

    done = client.post(url)
    assert done.status_code == 200
    assert "is confirmed" in done.content.decode()
    pending.refresh_from_db()
    assert pending.confirmed_at is not None
    assert has_consent(pending.contact, "marketing")
    assert list(contacts_with_consent("marketing")) == [pending.contact]
    assert Touchpoint.objects.filter(kind="consent_confirmed", contact=pending.contact).count() == 1


def test_replayed_link_confirms_nothing_twice(client, pending):
    url = f"/journey/confirm/{make_token(pending)}/"
    client.post(url)
    first = ConsentRecord.objects.get(pk=pending.pk).confirmed_at
    again = client.post(url)
    assert again.status_code == 200
    assert ConsentRecord.objects.get(pk=pending.pk).confirmed_at == first
    assert Touchpoint.objects.filter(kind="consent_confirmed").count() == 1


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        signing.dumps({"r": 1, "c": 1}, salt="other-salt"),
    ],
)
def test_forged_link_reveals_nothing(client, pending, token):
    response = client.post(f"/journey/confirm/{token}/")
    assert response.status_code == 400
    html = response.content.decode()
    assert "invalid or has expired" in html
    assert "doi@example.com" not in html
    assert ConsentRecord.objects.get(pk=pending.pk).confirmed_at is None


def test_token_for_another_record_id_is_rejected(client, pending):
    forged = signing.dumps(
        {"r": pending.pk, "c": pending.contact_id + 1},
        salt="wagtail_journey.double_opt_in",
        compress=True,
    )
    assert client.post(f"/journey/confirm/{forged}/").status_code == 400


def test_expired_link_is_rejected(client, pending, settings):
    settings.WAGTAIL_JOURNEY = {**settings.WAGTAIL_JOURNEY, "DOUBLE_OPT_IN_MAX_AGE_DAYS": -1}
    response = client.get(f"/journey/confirm/{make_token(pending)}/")
    assert response.status_code == 400


def test_a_later_withdrawal_wins(pending):
    from django.utils import timezone

    ConsentRecord.objects.filter(pk=pending.pk).update(confirmed_at=timezone.now())
    assert has_consent(pending.contact, "marketing")
    record_consent(pending.contact, pending.purpose, "withdrawn", method="preference_centre")
    assert not has_consent(pending.contact, "marketing")
    assert not contacts_with_consent("marketing").exists()


def test_the_email_echoes_no_text_a_visitor_entered(pending):
    """Whoever typed the address may not own it: not even the name reaches the mailbox."""
    from wagtail_journey.models import Contact

    Contact.objects.filter(pk=pending.contact_id).update(
        first_name='Win a prize at https://evil.example <img src=x onerror="1">'
    )
    send_confirmation(pending.pk, "http://testserver/", "en")
    message = mail.outbox[0]
    for part in (message.body, message.alternatives[0][0], message.subject):
        assert "evil.example" not in part
        assert "img src" not in part
    assert message.body.startswith("Hello,")
