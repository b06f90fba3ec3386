"""Getting into the preference centre: the link in every email, asking for a link by
address, and bad links (forged, expired, replayed, for another purpose) refused alike."""

from __future__ import annotations

import statistics
import time
from unittest import mock

import pytest
from django.core import mail
from django.test import Client

from tests.emails.conftest import queue_newsletter
from tests.privacy.conftest import last_mail, link_in, open_centre, path_of
from wagtail_journey.emails import sending
from wagtail_journey.models import Contact, UsedPrivacyToken
from wagtail_journey.privacy import preferences, tokens

pytestmark = pytest.mark.django_db

CENTRE = "/journey/preferences/"


def test_every_email_footer_links_to_the_recipients_centre(client, ana, purposes):
    queue_newsletter(ana, purposes[1])
    sending.send_due()
    path = link_in(last_mail())
    # A mail scanner fetching the link opens nothing.
    response = client.get(path)
    assert response.status_code == 200
    assert b"Open my preferences" in response.content
    assert preferences.SESSION_COOKIE not in response.cookies
    response = client.post(path)
    assert response.status_code == 302
    cookie = response.cookies[preferences.SESSION_COOKIE]
    assert cookie["httponly"] and cookie["path"] == CENTRE and cookie["samesite"] == "Lax"
    page = client.get(CENTRE)
    assert b"ana@example.com" in page.content and b"Marketing emails" in page.content
    # The footer link is reusable (like the unsubscribe link beside it).
    assert Client().post(path).status_code == 302


def test_the_template_footer_carries_the_link_beside_unsubscribe():
    from types import SimpleNamespace

    from wagtail_journey.emails.layout import _footer
    from wagtail_journey.emails.rendering import _Builder

    b = _Builder()
    html, text = _footer(b, None, SimpleNamespace(is_marketing=True))
    assert "Manage your preferences" in html and "Unsubscribe" in html
    keys = [slot.url for slot in b.slots]
    assert keys == ["preferences_url", "unsubscribe_url"]
    b = _Builder()
    html, text = _footer(b, None, SimpleNamespace(is_marketing=False))
    assert "Manage your preferences" in html and "Unsubscribe" not in html


def test_requested_link_is_emailed_to_a_known_address_and_works_once(client, ana, committed):
    with committed():
        response = client.post(CENTRE, {"action": "request_link", "email": " Ana@Example.com "})
    assert response.status_code == 200
    message = last_mail()
    assert message.to == ["ana@example.com"]
    path = link_in(message)
    assert client.post(path).status_code == 302
    # Replayed (another browser, or the same one later): refused, and burnt for good.
    other = Client()
    replay = other.post(path)
    assert replay.status_code == 400
    assert preferences.SESSION_COOKIE not in replay.cookies
    assert other.get(path).status_code == 400
    assert UsedPrivacyToken.objects.filter(kind="prefs").count() == 1


def _ask(client, address):
    return client.post(CENTRE, {"action": "request_link", "email": address})


def test_same_answer_for_known_and_unknown_addresses(client, ana, committed):
    with committed():
        known = _ask(client, "ana@example.com")
        unknown = _ask(Client(), "nobody@example.com")
    assert known.status_code == unknown.status_code == 200
    assert _strip_csrf(known.content) == _strip_csrf(unknown.content)
    assert len(mail.outbox) == 1  # only the known address got an email
    assert not Contact.objects.filter(email="nobody@example.com").exists()


def _strip_csrf(content: bytes) -> bytes:
    import re

    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", content)


def test_same_work_and_roughly_same_time_for_known_and_unknown(client, ana, settings, committed):
    """The request does one lookup and queues one task whatever the address; the
    worker decides. Timed with the task's queueing stubbed (its cost is the same)."""
    settings.WAGTAIL_JOURNEY = {
        **settings.WAGTAIL_JOURNEY,
        "PREFERENCE_LINK_RATE_LIMIT_IP": (10_000, 3600),
        "PREFERENCE_LINK_RATE_LIMIT_ADDRESS": (10_000, 3600),
    }
    calls = []
    timings = {"ana@example.com": [], "nobody@example.com": []}
    stub = mock.Mock(enqueue=lambda *args: calls.append(args))
    with mock.patch.object(preferences, "send_link", stub):
        for _ in range(15):
            for address, times in timings.items():
                with committed():
                    start = time.perf_counter()
                    _ask(client, address)
                    times.append(time.perf_counter() - start)
    assert len(calls) == 30  # one task per request, known or not
    assert {c[0] for c in calls} == {ana.pk, 0}
    known = statistics.median(timings["ana@example.com"])
    unknown = statistics.median(timings["nobody@example.com"])
    assert 0.5 < known / unknown < 2, (known, unknown)


def test_the_worker_sends_nothing_for_an_unknown_address(ana, committed):
    with committed():
        assert preferences.send_link.call(0, "en") is False
        assert preferences.send_link.call(ana.pk, "en") is True
    assert len(mail.outbox) == 1


def test_link_requests_are_rate_limited_alike_for_known_and_unknown(client, ana, committed):
    with committed():
        for _ in range(3):
            assert _ask(client, "ana@example.com").status_code == 200
            assert _ask(client, "nobody@example.com").status_code == 200
        known, unknown = _ask(client, "ana@example.com"), _ask(client, "nobody@example.com")
    assert known.status_code == unknown.status_code == 429
    assert b"Too many requests" in known.content
    assert len(mail.outbox) == 3


def test_a_bad_address_is_a_form_error_and_stores_nothing(client, ana):
    response = _ask(client, "not an address")
    assert response.status_code == 400
    assert b"Enter a valid email address" in response.content
    assert not mail.outbox


def _expired(kind: str, contact_id: int, days: float) -> str:
    with mock.patch("time.time", return_value=time.time() - days * 86400):
        return tokens.make(kind, contact_id)


@pytest.mark.parametrize(
    "kind",
    ["forged", "tampered", "expired", "expired_footer", "other_purpose", "erased", "garbage"],
)
def test_bad_links_reveal_nothing_and_open_nothing(client, ana, kind):
    good = tokens.make(preferences.PREFS, ana.pk)
    token = {
        "forged": good[:-10] + "AAAAAAAAAA",
        "tampered": tokens.make(preferences.PREFS, ana.pk + 1)[:20] + good[20:],
        "expired": _expired(preferences.PREFS, ana.pk, 1.1),
        "expired_footer": _expired(preferences.PREFS_MAIL, ana.pk, 31),
        "other_purpose": tokens.make(preferences.ERASE, ana.pk),
        "erased": good,
        "garbage": "not-a-token",
    }[kind]
    if kind == "erased":
        Contact.objects.filter(pk=ana.pk).update(erased_at="2026-01-01T00:00Z")
    path = f"/journey/preferences/open/{token}/"
    get, post = client.get(path), client.post(path)
    assert get.status_code == post.status_code == 400
    assert preferences.SESSION_COOKIE not in post.cookies
    for response in (get, post):
        assert b"ana@example.com" not in response.content
    reference = client.get("/journey/preferences/open/not-a-token/")
    assert _strip_csrf(get.content) == _strip_csrf(reference.content)
    assert client.get(CENTRE).status_code == 200  # the request form, no centre
    assert b"ana@example.com" not in client.get(CENTRE).content


def test_a_forged_or_expired_session_cookie_opens_nothing(client, ana, settings):
    client.cookies[preferences.SESSION_COOKIE] = f"{ana.pk}:forged:signature"
    assert b"ana@example.com" not in client.get(CENTRE).content
    open_centre(client, ana)
    assert b"ana@example.com" in client.get(CENTRE).content
    settings.WAGTAIL_JOURNEY = {**settings.WAGTAIL_JOURNEY, "PREFERENCE_SESSION_SECONDS": -1}
    assert b"ana@example.com" not in client.get(CENTRE).content


def test_pages_are_translated(client, ana):
    open_centre(client, ana)
    fr = client.get(CENTRE, HTTP_ACCEPT_LANGUAGE="fr")
    assert "Vos préférences".encode() in fr.content
    pt = Client().get(CENTRE, HTTP_ACCEPT_LANGUAGE="pt")
    assert "Gerir as suas preferências".encode() in pt.content


def test_every_link_is_built_on_the_configured_site(ana):
    assert preferences.requested_link(ana.pk).startswith("http://testserver/journey/")
    assert path_of(preferences.erasure_link(ana.pk)).startswith("/journey/preferences/erase/")
