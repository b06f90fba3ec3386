import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from wagtail_journey.identity import clean_email, get_or_create_contact, normalize_email
from wagtail_journey.models import Contact


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Ana.Silva@Example.COM ", "ana.silva@example.com"),
        ("JOSE@EXAMPLE.PT", "jose@example.pt"),
        # "é" typed as e + combining acute (NFD) and as one code point (NFC) are one address.
        ("rene\u0301@example.fr", "ren\u00e9@example.fr"),
        # One mailbox (issue 9, item 6): an IDN domain and its punycode form,
        ("ana@xn--bcher-kva.de", "ana@b\u00fccher.de"),
        ("ana@B\u00dcCHER.de", "ana@b\u00fccher.de"),
        # default-ignorable code points (soft hyphen, zero-width space/joiner, BOM),
        ("a\u00adna@exa\u200bmple.com", "ana@example.com"),
        ("\ufeffana\u200d@example.com\u2060", "ana@example.com"),
        # compatibility forms (full-width letters, the full-width at sign and dot).
        ("\uff41\uff4e\uff41\uff20\uff58\uff0e\uff4f\uff52\uff47", "ana@x.org"),
        ("\ufb00@example.com", "ff@example.com"),
    ],
)
def test_normalize_email(raw, expected):
    assert normalize_email(raw) == expected


MAILBOX_SPELLINGS = [
    "ana@b\u00fccher.de",
    "ANA@xn--bcher-kva.de",
    "a\u00adna@b\u00fccher.de",
    "\uff41\uff4e\uff41@B\u00dcCHER.DE",
    "ana\u200b@bu\u0308cher.de",
]


@pytest.mark.django_db
def test_every_spelling_of_one_mailbox_is_one_contact_everywhere(client, home_page):
    """Forms, shop events, record(email=...), imports and the admin use one normalisation."""
    from django.contrib.auth.models import User

    from tests.forms_helpers import form_id, hidden_values, make_landing_page, make_purposes
    from wagtail_journey import record
    from wagtail_journey.tracking.shop import record_shop_event

    first, _ = get_or_create_contact(MAILBOX_SPELLINGS[0])
    for spelling in MAILBOX_SPELLINGS:
        assert get_or_create_contact(spelling) == (first, False)
        assert record("custom_event", email=spelling).contact == first
    record_shop_event("order_completed", email=MAILBOX_SPELLINGS[3], order_id="o-1")
    assert first.touchpoints.filter(kind="order_completed").exists()

    page = make_landing_page(home_page, make_purposes())
    for spelling in MAILBOX_SPELLINGS:
        html = client.get(page.url).content.decode()
        block_id = form_id(page)
        payload = {**hidden_values(html, block_id), "wj_form": block_id}
        payload.update({"email": spelling, "consent_privacy": "on"})
        response = client.post(page.url, payload)
        assert response.status_code in (200, 302, 303)
        assert "Enter a valid email" not in response.content.decode()
    assert first.submissions.count() == len(MAILBOX_SPELLINGS)

    client.force_login(User.objects.create_superuser("ed", "ed@example.com", "pw"))
    response = client.post(
        "/admin/wagtail_journey/contact/add/",
        {"email": MAILBOX_SPELLINGS[3], "score": "0", "lifecycle_stage": "subscriber"},
    )
    assert response.status_code == 200  # the form again, with the duplicate error
    assert "already exists" in response.content.decode()
    assert Contact.objects.count() == 1


@given(st.emails())
def test_normalize_is_idempotent(email):
    once = normalize_email(email)
    assert normalize_email(once) == once


@pytest.mark.parametrize("bad", ["", "   ", "not-an-email", "a@", "@b.com", "x" * 250 + "@a.com"])
def test_clean_email_rejects_bad_input_with_a_message(bad):
    with pytest.raises(ValidationError) as exc:
        clean_email(bad)
    assert exc.value.messages[0]


@pytest.mark.django_db
def test_same_person_in_other_case_is_one_contact():
    first, created = get_or_create_contact("Ana@Example.com")
    second, created_again = get_or_create_contact("  ana@EXAMPLE.com")
    assert created and not created_again
    assert first.pk == second.pk
    assert Contact.objects.count() == 1


@pytest.mark.django_db
def test_contact_save_normalises_email():
    contact = Contact.objects.create(email=" Maria@Example.NET ")
    assert contact.email == "maria@example.net"


@pytest.mark.django_db
def test_admin_reports_a_duplicate_in_other_case_as_a_form_error(client):
    from django.contrib.auth.models import User

    Contact.objects.create(email="ana@example.com")
    client.force_login(User.objects.create_superuser("ed", "ed@example.com", "pw"))
    response = client.post(
        "/admin/wagtail_journey/contact/add/",
        {"email": "ANA@Example.com", "score": "0", "lifecycle_stage": "subscriber"},
    )
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert Contact.objects.count() == 1
