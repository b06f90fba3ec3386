"""One-click unsubscribe (RFC 8058): POST withdraws, GET only asks, bad tokens reveal nothing."""

from __future__ import annotations

import time
from unittest import mock

import pytest
from django.core import mail

from tests.emails.conftest import consented, queue_newsletter
from wagtail_journey.emails import sending
from wagtail_journey.emails.unsubscribe import make_token
from wagtail_journey.models import ConsentRecord, Touchpoint
from wagtail_journey.privacy.consent import has_consent

pytestmark = pytest.mark.django_db


@pytest.fixture
def received(marketing):
    """A sent marketing message and the One-Click URL from its header."""
    ana = consented(marketing, "ana@example.com", "Ana")
    row = queue_newsletter(ana, marketing)
    sending.send_due()
    [msg] = mail.outbox
    url = msg.extra_headers["List-Unsubscribe"].strip("<>")
    return row, url.removeprefix("http://testserver")


def test_one_click_post_without_cookies_withdraws_at_once(client, received, marketing):
    row, path = received
    response = client.post(
        path, data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200  # no redirect, no login
    assert not response.cookies
    assert not has_consent(row.contact, marketing.key)
    withdrawal = ConsentRecord.objects.filter(contact=row.contact).first()
    assert (withdrawal.action, withdrawal.method) == ("withdrawn", "unsubscribe")
    assert Touchpoint.objects.filter(contact=row.contact, kind="unsubscribed").count() == 1
    # The mail client retries: nothing more is recorded.
    client.post(
        path, data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert ConsentRecord.objects.filter(contact=row.contact, action="withdrawn").count() == 1
    assert Touchpoint.objects.filter(contact=row.contact, kind="unsubscribed").count() == 1
    # And the next newsletter is skipped.
    queue_newsletter(row.contact, marketing, key="next")
    assert sending.send_due()["skipped"] == 1


def test_get_only_shows_a_button(client, received, marketing):
    row, path = received
    response = client.get(path)
    assert response.status_code == 200
    assert b'<form method="post"' in response.content
    assert b"Marketing emails" in response.content
    assert has_consent(row.contact, marketing.key)
    assert not Touchpoint.objects.filter(kind="unsubscribed").exists()


def test_the_page_is_translated(client, received):
    _, path = received
    response = client.get(path, HTTP_ACCEPT_LANGUAGE="fr")
    assert "Se désabonner".encode() in response.content


def _expired_token(outbound_id: int) -> str:
    with mock.patch("time.time", return_value=time.time() - 400 * 86400):
        return make_token(outbound_id)


@pytest.mark.parametrize("kind", ["forged", "tampered", "expired", "garbage"])
def test_bad_tokens_reveal_nothing_and_change_nothing(client, received, marketing, kind):
    row, path = received
    good = path.rstrip("/").rsplit("/", 1)[1]
    token = {
        "forged": make_token(row.pk).split(":")[0]
        + ":1xYOrK:forgedsignatureforgedsignatureAAAAAAAAAA",
        "tampered": make_token(row.pk + 1).rsplit(":", 1)[0] + ":" + good.rsplit(":", 1)[1],
        "expired": _expired_token(row.pk),
        "garbage": "not-a-token",
    }[kind]
    bad_path = f"/journey/unsubscribe/{token}/"
    get = client.get(bad_path)
    post = client.post(
        bad_path,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert get.status_code == post.status_code == 400
    assert get.content == post.content
    assert b"Marketing emails" not in get.content and b"ana@example.com" not in get.content
    assert has_consent(row.contact, marketing.key)
    reference = client.get("/journey/unsubscribe/not-a-token/")
    assert get.content == reference.content  # the same page whatever went wrong
