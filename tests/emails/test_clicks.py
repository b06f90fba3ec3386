"""Click tracking: signed redirects only, the click on the contact, scanners flagged."""

import time

import pytest
from django.core import signing
from django.test import RequestFactory, override_settings
from django.utils import timezone

from wagtail_journey.emails import clicks
from wagtail_journey.emails.clicks import InvalidClick, read_click, record_click, tracked_url
from wagtail_journey.events import record
from wagtail_journey.models import Contact, ScoreChange, ScoringRule, Touchpoint, Visitor

BROWSER_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
TARGET = "https://shop.example/sale?a=1&b=2"


def test_tracked_url_is_built_from_the_configured_root_not_the_request():
    with override_settings(WAGTAILADMIN_BASE_URL="https://www.shop.example/"):
        url = tracked_url(42, TARGET)
    assert url.startswith("https://www.shop.example/journey/email/click/")
    token = url.rstrip("/").rsplit("/", 1)[1]
    click = read_click(token)
    assert (click.outbound_id, click.url) == (42, TARGET)
    assert abs(click.made_at - time.time()) < 5


def test_tracked_url_follows_the_package_public_base_url(settings):
    """One root for every public link: PUBLIC_BASE_URL wins over WAGTAILADMIN_BASE_URL."""
    settings.WAGTAILADMIN_BASE_URL = "https://admin.shop.example"
    settings.WAGTAIL_JOURNEY = {
        **settings.WAGTAIL_JOURNEY,
        "PUBLIC_BASE_URL": "https://www.shop.example",
    }
    assert tracked_url(42, TARGET).startswith("https://www.shop.example/journey/email/click/")


def _token(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[1]


@pytest.mark.django_db
def test_redirects_to_the_signed_url(client):
    response = client.get(tracked_url(7, TARGET).replace("http://testserver", ""))
    assert response.status_code == 302
    assert response["Location"] == TARGET
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "token",
    [
        "nonsense",
        # signed with another salt (e.g. a double opt-in token)
        signing.dumps({"o": 1, "u": "https://evil.example/"}, salt="wagtail_journey.double_opt_in"),
        # the right salt but not a web link
        clicks._signer.sign_object({"o": 1, "u": "javascript:alert(1)"}, compress=True),
        # the right salt, wrong shape
        clicks._signer.sign_object(["https://evil.example/"]),
    ],
)
def test_anything_not_signed_for_a_web_link_is_refused_without_redirect(client, token):
    response = client.get(f"/journey/email/click/{token}/")
    assert response.status_code == 400
    assert "Location" not in response
    assert b"evil.example" not in response.content
    assert b"not valid" in response.content


@pytest.mark.django_db
def test_a_tampered_url_is_refused(client):
    token = _token(tracked_url(7, "https://shop.example/"))
    payload, ts, sig = token.rsplit(":", 2)
    other = clicks._signer.sign_object({"o": 7, "u": "https://evil.example/"}, compress=True)
    forged = f"{other.rsplit(':', 2)[0]}:{ts}:{sig}"
    with pytest.raises(InvalidClick):
        read_click(forged)
    assert client.get(f"/journey/email/click/{forged}/").status_code == 400


@pytest.mark.parametrize(
    ("ua", "seconds", "reason"),
    [
        (BROWSER_UA, 3600, ""),
        (BROWSER_UA, 2, "too_soon"),
        ("", 3600, "no_user_agent"),
        ("Mozilla/5.0 (compatible; Barracuda Sentinel)", 3600, "scanner"),
        ("python-requests/2.32", 3600, "scanner"),
        ("Googlebot/2.1 (+http://www.google.com/bot.html)", 3600, "bot"),
    ],
)
def test_machine_reason(ua, seconds, reason):
    assert clicks.machine_reason(ua, seconds) == reason


# --- recording -----------------------------------------------------------------------


@pytest.fixture
def contact(db):
    return Contact.objects.create(email="ana@example.com", first_name="Ana")


@pytest.fixture
def rule(db):
    return ScoringRule.objects.create(name="Clicked an email", kind="email_clicked", points=5)


def _request(ua=BROWSER_UA, visitor=None):
    cookies = {"wj_vid": visitor.key} if visitor else {}
    request = RequestFactory(HTTP_USER_AGENT=ua).get("/journey/email/click/x/")
    request.COOKIES.update(cookies)
    return request


def _click(age_seconds=3600, url=TARGET, outbound_id=9):
    return clicks.Click(outbound_id, url, time.time() - age_seconds)


def test_a_human_click_is_recorded_scored_and_joins_the_browser(contact, rule):
    visitor = Visitor.objects.create(consented_at=timezone.now())
    earlier = record("page_view", visitor=visitor)
    assert earlier.contact_id is None
    touchpoint = record_click(_request(visitor=visitor), _click(), contact)
    assert touchpoint.kind == "email_clicked"
    assert touchpoint.contact_id == contact.pk
    assert touchpoint.properties == {"outbound_email": 9, "url": TARGET}
    visitor.refresh_from_db()
    assert visitor.contact_id == contact.pk
    earlier.refresh_from_db()
    assert earlier.contact_id == contact.pk  # the browser's history joined the contact
    contact.refresh_from_db()
    assert contact.score == 5


@pytest.mark.parametrize(
    ("ua", "age", "reason"),
    [
        ("Mozilla/5.0 (compatible; Mimecast URL protect)", 3600, "scanner"),
        (BROWSER_UA, 1, "too_soon"),
        ("", 3600, "no_user_agent"),
    ],
)
def test_a_machine_click_is_recorded_flagged_and_changes_nothing(contact, rule, ua, age, reason):
    visitor = Visitor.objects.create(consented_at=timezone.now())
    touchpoint = record_click(_request(ua, visitor), _click(age), contact)
    assert touchpoint.properties["machine"] is True
    assert touchpoint.properties["machine_reason"] == reason
    assert touchpoint.visitor_id is None
    visitor.refresh_from_db()
    assert visitor.contact_id is None  # a scanner proves nothing
    contact.refresh_from_db()
    assert contact.score == 0
    assert not ScoreChange.objects.exists()
    assert contact.last_activity_at is None


def test_machine_clicks_do_not_count_in_segment_rules_or_rescoring(contact, rule):
    from django.db.models import Exists

    from wagtail_journey.scoring import replay_rules
    from wagtail_journey.segment_rules import touchpoints

    record_click(_request(""), _click(), contact)
    record_click(_request(BROWSER_UA), _click(), contact)
    flagged = Touchpoint.objects.filter(properties__machine=True)
    assert flagged.count() == 1
    human = Contact.objects.filter(Exists(touchpoints("email_clicked")))
    assert list(human) == [contact]
    Touchpoint.objects.filter(properties__machine__isnull=True).delete()
    assert not Contact.objects.filter(Exists(touchpoints("email_clicked"))).exists()
    replay_rules()
    contact.refresh_from_db()
    assert contact.score == 0


@override_settings(WAGTAIL_JOURNEY={"EMAIL_CLICK_IDENTIFY_DAYS": 30})
def test_an_old_link_records_the_click_but_identifies_nobody(contact):
    visitor = Visitor.objects.create(consented_at=timezone.now())
    touchpoint = record_click(_request(visitor=visitor), _click(age_seconds=31 * 86400), contact)
    assert "machine" not in touchpoint.properties
    visitor.refresh_from_db()
    assert visitor.contact_id is None


def test_a_browser_without_tracking_consent_is_not_joined(contact):
    visitor = Visitor.objects.create(audience_only=True)
    touchpoint = record_click(_request(visitor=visitor), _click(), contact)
    assert touchpoint.visitor_id is None
    visitor.refresh_from_db()
    assert visitor.contact_id is None


@pytest.mark.django_db
def test_a_click_in_a_sent_message_credits_its_contact(client):
    """Through the real pipeline: queued, sent with signed links, clicked."""
    import re
    from datetime import timedelta

    from django.core import mail

    from tests.emails.conftest import consented
    from tests.emails.helpers import make_template, marketing_purpose
    from wagtail_journey.emails import sending
    from wagtail_journey.models import OutboundEmail

    template = make_template()
    ana = consented(marketing_purpose(), "ana@example.com", "Ana")
    row, _ = sending.queue_template(template, ana, idempotency_key="welcome:ana")
    sending.send_due()
    (message,) = mail.outbox
    html = message.alternatives[0][0]
    links = re.findall(r'href="(http://testserver/journey/email/click/[^"]+)"', html)
    assert len(set(links)) == 3
    link = next(u for u in links if read_click(_token(u)).url == "https://shop.example/sale")
    path = link.removeprefix("http://testserver")

    # A gateway fetching the link as the message arrives: flagged, not credited.
    response = client.get(path, HTTP_USER_AGENT=BROWSER_UA)
    assert response.status_code == 302 and response["Location"] == "https://shop.example/sale"
    (scan,) = Touchpoint.objects.filter(kind="email_clicked")
    assert scan.contact_id == ana.pk and scan.properties["machine_reason"] == "too_soon"

    # The person, an hour later.
    OutboundEmail.objects.filter(pk=row.pk).update(sent_at=timezone.now() - timedelta(hours=1))
    client.head(path, HTTP_USER_AGENT=BROWSER_UA)  # a HEAD records nothing
    client.get(path, HTTP_USER_AGENT=BROWSER_UA)
    human = Touchpoint.objects.filter(kind="email_clicked").exclude(pk=scan.pk).get()
    assert human.contact_id == ana.pk
    assert human.properties == {"outbound_email": row.pk, "url": "https://shop.example/sale"}


@pytest.mark.django_db
def test_a_link_of_a_message_without_contact_redirects_and_records_nothing(client):
    response = client.get(tracked_url(999999, TARGET).removeprefix("http://testserver"))
    assert response.status_code == 302
    assert not Touchpoint.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "text"), [("fr", "Lien non valide"), ("pt", "Ligação inválida")]
)
def test_the_error_page_is_translated(client, language, text):
    response = client.get("/journey/email/click/x/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 400
    assert text in response.content.decode()
