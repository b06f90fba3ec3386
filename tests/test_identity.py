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
    ],
)
def test_normalize_email(raw, expected):
    assert normalize_email(raw) == expected


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
        "/admin/wagtail_journey/contact/create/",
        {"email": "ANA@Example.com", "score": "0", "lifecycle_stage": "subscriber"},
    )
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert Contact.objects.count() == 1
