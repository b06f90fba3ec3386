"""Double opt-in: the emailed link confirms marketing consent, once, and only if genuine."""

import re

import pytest
from django.core import mail, signing
from django.test import Client

from tests.forms_helpers import form_id, hidden_values, make_landing_page, make_purposes
from wagtail_journey.identity import get_or_create_contact
from wagtail_journey.links import public_url
from wagtail_journey.models import ConsentRecord, Touchpoint, Visitor
from wagtail_journey.privacy.consent import contacts_with_consent, has_consent, record_consent
from wagtail_journey.privacy.double_opt_in import (
    UsedToken,
    confirm,
    make_token,
    send_confirmation,
)

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
    assert send_confirmation(pending.pk, "en") is True
    assert send_confirmation(pending.pk, "en") is False
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "Please confirm your subscription"
    assert message.to == ["doi@example.com"]
    assert message.alternatives and "Confirm" in message.alternatives[0][0]


def test_confirmation_email_in_the_visitors_language(pending):
    send_confirmation(pending.pk, "fr")
    assert mail.outbox[0].subject == "Merci de confirmer votre inscription"


def test_unconfirmed_marketing_consent_does_not_count(pending):
    assert not has_consent(pending.contact, "marketing")
    assert not contacts_with_consent("marketing").exists()


def test_link_asks_then_confirms_and_records_a_touchpoint(client, pending):
    send_confirmation(pending.pk, "en")
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


def test_a_used_link_is_not_accepted_a_second_time(client, pending):
    url = f"/journey/confirm/{make_token(pending)}/"
    assert client.post(url).status_code == 200
    first = ConsentRecord.objects.get(pk=pending.pk).confirmed_at

    # Another browser replaying the link (forwarded email, leaked URL) gets a
    # neutral "already used" page: nothing is recorded and no browser is linked.
    other = Client()
    other.cookies["wj_vid"] = "replaying-browser"
    for response in (other.get(url), other.post(url)):
        assert response.status_code == 410
        html = response.content.decode()
        assert "already been used" in html
        assert "Yes, confirm" not in html
        assert "doi@example.com" not in html
    assert ConsentRecord.objects.get(pk=pending.pk).confirmed_at == first
    assert Touchpoint.objects.filter(kind="consent_confirmed").count() == 1
    assert not Visitor.objects.filter(key="replaying-browser").exists()


def test_confirm_raises_for_a_used_token(pending):
    token = make_token(pending)
    confirm(token)
    with pytest.raises(UsedToken):
        confirm(token)
    assert Touchpoint.objects.filter(kind="consent_confirmed").count() == 1


def test_the_link_uses_the_configured_site_url_not_the_host_header(
    client, home_page, settings, django_capture_on_commit_callbacks
):
    """A form posted with a forged Host header still mails a link to the real site."""
    settings.ALLOWED_HOSTS = ["*"]
    settings.WAGTAILADMIN_BASE_URL = "https://www.example.com"
    page = make_landing_page(home_page, make_purposes())
    block = form_id(page)
    html = client.get(page.url).content.decode()
    data = {
        **hidden_values(html, block),
        "wj_form": block,
        "email": "victim@example.com",
        "consent_privacy": "on",
        "consent_marketing": "on",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(page.url, data, HTTP_HOST="evil.example")
    assert response.status_code in (200, 302, 303)
    body = mail.outbox[-1].body + mail.outbox[-1].alternatives[0][0]
    assert "evil.example" not in body
    assert "https://www.example.com/journey/confirm/" in body


def test_public_url_prefers_the_package_setting(settings):
    settings.WAGTAIL_JOURNEY = {
        **settings.WAGTAIL_JOURNEY,
        "PUBLIC_BASE_URL": "https://news.example.org/",
    }
    assert public_url("/journey/confirm/x/") == "https://news.example.org/journey/confirm/x/"


def test_public_url_falls_back_to_the_default_site(settings):
    from wagtail.models import Site

    settings.WAGTAILADMIN_BASE_URL = None
    Site.objects.filter(is_default_site=True).update(hostname="www.example.net", port=443)
    assert public_url("/a/") == "https://www.example.net/a/"


@pytest.mark.parametrize("path", ["https://evil.example/x", "//evil.example/x", "x/y"])
def test_public_url_refuses_anything_but_a_local_path(path):
    with pytest.raises(ValueError):
        public_url(path)


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
    send_confirmation(pending.pk, "en")
    message = mail.outbox[0]
    for part in (message.body, message.alternatives[0][0], message.subject):
        assert "evil.example" not in part
        assert "img src" not in part
    assert message.body.startswith("Hello,")
