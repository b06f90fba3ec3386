"""The privacy actions in the admin: one permission each, 403 and no data without it."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command

from wagtail_journey.models import ConsentRecord, Contact, ErasureReceipt
from wagtail_journey.privacy.erasure import ERASED_EMAIL

pytestmark = pytest.mark.django_db

EMAIL = "petronella.vask@example.org"
NAME = "Petronella"


@pytest.fixture
def contact(db):
    return Contact.objects.create(email=EMAIL, first_name=NAME)


def user_with(django_user_model, *codenames):
    user = django_user_model.objects.create_user(username="-".join(codenames) or "none")
    group = Group.objects.create(name=user.username)
    group.permissions.add(
        Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin"),
        *Permission.objects.filter(
            content_type__app_label="wagtail_journey", codename__in=codenames
        ),
    )
    user.groups.add(group)
    return user


def urls(contact):
    base = f"/admin/journey/contacts/{contact.pk}/privacy"
    return {
        "restrict": f"{base}/restrict/",
        "consent": f"{base}/consent/",
        "export": f"{base}/export/",
        "erase": f"{base}/erase/",
        "bulk": "/admin/journey/privacy/erase/",
    }


def assert_refused(response):
    assert response.status_code in (302, 403, 405), response.status_code
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert EMAIL.encode() not in body and NAME.encode() not in body


@pytest.mark.parametrize(
    ("codename", "allowed"),
    [
        ("view_contact", set()),
        ("change_contact", {"restrict", "consent"}),
        ("export_contact", {"export"}),
        ("erase_contact", {"erase", "bulk"}),
    ],
)
def test_each_privacy_action_needs_its_own_permission(
    client, django_user_model, contact, codename, allowed
):
    perms = {"view_contact", codename}
    client.force_login(user_with(django_user_model, *perms))
    for name, url in urls(contact).items():
        if name in allowed:
            continue
        assert_refused(client.get(url))
        assert_refused(client.post(url, {"what": "restriction", "on": "1", "confirm": "yes"}))
    contact.refresh_from_db()
    if "restrict" not in allowed:
        assert contact.restricted_at is None
    if "erase" not in allowed:
        assert contact.erased_at is None


def test_export_from_the_contact_page(client, django_user_model, contact):
    client.force_login(user_with(django_user_model, "view_contact", "export_contact"))
    response = client.get(urls(contact)["export"])
    assert response.status_code == 200
    data = b"".join(response.streaming_content)
    document = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("data.json"))
    assert document["contact"]["email"] == EMAIL


def test_erase_shows_the_dry_run_then_erases_on_confirmation(client, django_user_model, contact):
    client.force_login(user_with(django_user_model, "view_contact", "erase_contact"))
    url = urls(contact)["erase"]
    page = client.get(url).content.decode()
    assert "wagtail_journey_contact" in page and "data-wj-erasure-plan" in page
    client.post(url, {})  # not confirmed: nothing happens
    contact.refresh_from_db()
    assert contact.erased_at is None
    response = client.post(url, {"confirm": "yes"})
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.erased_at is not None
    assert contact.email == ERASED_EMAIL.format(pk=contact.pk)
    assert ErasureReceipt.objects.filter(contact_ref=contact.pk).exists()


def test_bulk_erasure_by_address(client, django_user_model, contact):
    other = Contact.objects.create(email="other@example.org")
    keep = Contact.objects.create(email="keep@example.org")
    client.force_login(user_with(django_user_model, "view_contact", "erase_contact"))
    url = urls(contact)["bulk"]
    preview = client.post(
        url, {"step": "preview", "addresses": f"{EMAIL}\n OTHER@example.org \nnobody@x.org"}
    )
    html = preview.content.decode()
    assert "2 contacts will be erased" in html and "1 address matches no contact" in html
    client.post(url, {"step": "erase", "id": [contact.pk, other.pk], "confirm": "yes"})
    assert Contact.objects.filter(erased_at__isnull=False).count() == 2
    keep.refresh_from_db()
    assert keep.erased_at is None


def test_staff_consent_changes_are_recorded_and_logged(admin_client, contact):
    from wagtail.models import ModelLogEntry

    from wagtail_journey.models import ConsentPurpose

    purpose = ConsentPurpose.objects.create(name="News", key="news", text="<p>News</p>")
    admin_client.post(urls(contact)["consent"], {"purpose": purpose.pk, "action": "withdrawn"})
    record = ConsentRecord.objects.get(contact=contact)
    assert record.method == "admin" and record.action == "withdrawn"
    entry = ModelLogEntry.objects.get(action="wagtail_journey.consent_change")
    assert entry.label == f"Contact #{contact.pk}"
    # Reports -> Site history lists it.
    history = admin_client.get("/admin/reports/site-history/").content.decode()
    assert f"Contact #{contact.pk}" in history


def test_the_erase_command_dry_run_changes_nothing(contact, capsys):
    call_command("erase_contact", EMAIL, dry_run=True)
    out = capsys.readouterr().out
    assert "wagtail_journey_contact: 1" in out and "Dry run" in out
    contact.refresh_from_db()
    assert contact.erased_at is None
    call_command("erase_contact", str(contact.pk), yes=True)
    contact.refresh_from_db()
    assert contact.erased_at is not None
