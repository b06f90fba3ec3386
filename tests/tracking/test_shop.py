"""Shop events: Python API and the HMAC-signed endpoint."""

import json
import time

import pytest
from django.core.exceptions import ValidationError

from wagtail_journey.models import Contact, Touchpoint
from wagtail_journey.tracking.shop import record_shop_event, sign

pytestmark = pytest.mark.django_db

SECRET = "s" * 40
URL = "/journey/shop/events/"


@pytest.fixture(autouse=True)
def shop_secret(settings):
    settings.WAGTAIL_JOURNEY = {"SHOP_SECRET": SECRET}


def send(client, payload, *, secret=SECRET, timestamp=None, signature=None, **extra):
    body = json.dumps(payload).encode()
    header = signature if signature is not None else sign(body, secret, timestamp)
    return client.post(
        URL, body, content_type="application/json", HTTP_X_JOURNEY_SIGNATURE=header, **extra
    )


ORDER = {
    "event": "order_completed",
    "email": "Ana@Example.com",
    "order_id": "A-1001",
    "amount": "49.9",
    "currency": "eur",
}


def test_signed_order_is_recorded_once_per_order_id(client):
    first = send(client, ORDER)
    assert first.status_code == 200 and first.json()["duplicate"] is False
    again = send(client, ORDER, timestamp=int(time.time()) + 1)  # a retry, freshly signed
    assert again.status_code == 200 and again.json()["duplicate"] is True
    tp = Touchpoint.objects.get(kind="order_completed")
    assert tp.contact.email == "ana@example.com"
    assert tp.properties == {"order_id": "A-1001", "amount": "49.90", "currency": "EUR"}


def test_cart_checkout_and_refund_events(client):
    for event in ("cart_updated", "checkout_started"):
        assert send(client, {"event": event, "email": "b@example.com"}).status_code == 200
    refund = {"event": "order_refunded", "email": "b@example.com", "order_id": "A-1"}
    assert send(client, refund).status_code == 200
    kinds = sorted(Touchpoint.objects.values_list("kind", flat=True))
    assert kinds == ["cart_updated", "checkout_started", "order_refunded"]


@pytest.mark.parametrize(
    "signature",
    ["", "t=1,v1=abc", "garbage", f"t={int(time.time())},v1={'0' * 64}"],
)
def test_missing_malformed_or_forged_signature_is_refused(client, signature):
    response = send(client, ORDER, signature=signature)
    assert response.status_code == 401
    assert Touchpoint.objects.count() == 0 and Contact.objects.count() == 0


def test_signature_with_another_secret_is_refused(client):
    assert send(client, ORDER, secret="x" * 40).status_code == 401
    assert Touchpoint.objects.count() == 0


def test_stale_timestamp_is_refused(client):
    assert send(client, ORDER, timestamp=int(time.time()) - 3600).status_code == 401
    assert send(client, ORDER, timestamp=int(time.time()) + 3600).status_code == 401
    assert Touchpoint.objects.count() == 0


def test_replayed_request_is_refused(client):
    body = json.dumps({"event": "cart_updated", "email": "c@example.com"}).encode()
    header = sign(body, SECRET)
    kwargs = {"content_type": "application/json", "HTTP_X_JOURNEY_SIGNATURE": header}
    assert client.post(URL, body, **kwargs).status_code == 200
    assert client.post(URL, body, **kwargs).status_code == 409
    assert Touchpoint.objects.count() == 1


def test_tampered_body_is_refused(client):
    body = json.dumps(ORDER).encode()
    header = sign(body, SECRET)
    tampered = body.replace(b"49.9", b"0.01")
    response = client.post(
        URL, tampered, content_type="application/json", HTTP_X_JOURNEY_SIGNATURE=header
    )
    assert response.status_code == 401


def test_wrong_content_type_and_bad_payloads(client):
    body = json.dumps(ORDER).encode()
    response = client.post(
        URL, body, content_type="text/plain", HTTP_X_JOURNEY_SIGNATURE=sign(body, SECRET)
    )
    assert response.status_code == 415
    for bad in (
        {"event": "order_completed", "email": "a@example.com"},  # no order id
        {"event": "hacked", "email": "a@example.com"},
        {**ORDER, "currency": "euros"},
        {**ORDER, "amount": "lots"},
        {**ORDER, "email": "not-an-email"},
        {**ORDER, "order_id": "<script>"},
    ):
        assert send(client, bad).status_code == 400, bad
    assert Touchpoint.objects.count() == 0 and Contact.objects.count() == 0


def test_endpoint_is_off_without_a_secret(client, settings):
    settings.WAGTAIL_JOURNEY = {}
    assert send(client, ORDER).status_code == 404


def test_python_api_dedupes_orders_and_validates():
    a = record_shop_event(
        "order_completed", email="d@example.com", order_id="9", amount=10, currency="EUR"
    )
    b = record_shop_event(
        "order_completed", email="d@example.com", order_id="9", amount=10, currency="EUR"
    )
    assert a.pk == b.pk and not b.is_new
    with pytest.raises(ValidationError):
        record_shop_event("order_completed", email="d@example.com")
    with pytest.raises(ValidationError):
        record_shop_event("cart_updated")


def test_python_api_stitches_the_consented_visitor_of_the_request(consented, article):
    consented.get("/article/?utm_source=ads&utm_campaign=black-friday")
    request = consented.get("/article/").wsgi_request
    tp = record_shop_event(
        "order_completed",
        email="e@example.com",
        order_id="7",
        amount="5",
        currency="EUR",
        request=request,
    )
    contact = tp.contact
    assert contact.touchpoints.filter(kind="page_view").count() == 2
    assert contact.first_touch["source"] == "ads"
    assert contact.first_touch["campaign"] == "black-friday"


def test_http_event_joins_a_known_contacts_browser_only_when_authenticated(client, consented):
    """A guest checkout's email proves nothing about the browser (issue 9, item 2)."""
    from wagtail_journey.identity import get_or_create_contact
    from wagtail_journey.models import Visitor

    known, _ = get_or_create_contact("ana@example.com")
    visitor = Visitor.objects.get()
    guest = {**ORDER, "order_id": "G-1", "visitor": visitor.key}
    assert send(client, guest).status_code == 200
    visitor.refresh_from_db()
    assert visitor.contact_id is None
    signed_in = {**ORDER, "order_id": "S-1", "visitor": visitor.key, "authenticated": True}
    assert send(client, signed_in).status_code == 200
    visitor.refresh_from_db()
    assert visitor.contact_id == known.pk
