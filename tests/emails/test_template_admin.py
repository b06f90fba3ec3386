"""The template admin: create with merge-tag validation, preview with a contact, send a test."""

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.test import override_settings
from django.urls import reverse
from wagtail.models import ModelLogEntry
from wagtail.test.utils.form_data import nested_form_data, rich_text, streamfield

from tests.emails.helpers import make_template, marketing_purpose
from wagtail_journey.emails import rendering
from wagtail_journey.models import Contact, EmailTemplate

pytestmark = pytest.mark.django_db

URL = "wagtailsnippets_wagtail_journey_emailtemplate"


@pytest.fixture(autouse=True)
def _empty_cache():
    rendering.clear_cache()


@pytest.fixture
def admin(client, admin_user):
    admin_user.email = "editor@site.example"
    admin_user.save()
    client.force_login(admin_user)
    return client


def _post(subject, heading="Hi", purpose=None, action=None):
    data = nested_form_data(
        {
            "name": "Spring news",
            "language": "en",
            "subject": subject,
            "preheader": "",
            "from_name": "",
            "from_email": "",
            "reply_to": "",
            "purpose": purpose.pk if purpose else "",
            "track_clicks": "on",
            "body": streamfield(
                [
                    ("heading", {"text": heading, "size": "h1", "align": "left"}),
                    ("paragraph", rich_text("<p>Hello {{ first_name }}</p>")),
                ]
            ),
        }
    )
    if action:
        data[action] = "1"
    return data


def test_editor_creates_a_template_and_unknown_tags_are_named(admin):
    purpose = marketing_purpose()
    response = admin.post(
        reverse(f"{URL}:add"),
        _post("Hi {{ password }}", heading="{{ first_name|upper }}", purpose=purpose),
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert "{{ password }}" in content  # the subject's error names the tag
    assert "upper" in content  # and so does the heading block's
    assert not EmailTemplate.objects.exists()

    response = admin.post(reverse(f"{URL}:add"), _post("Hi {{ first_name }}", purpose=purpose))
    assert response.status_code == 302
    template = EmailTemplate.objects.get()
    assert template.subject == "Hi {{ first_name }}"
    assert template.latest_revision_id is not None


def test_a_marketing_template_needs_a_purpose(admin):
    response = admin.post(reverse(f"{URL}:add"), _post("Hello"))
    assert response.status_code == 200
    assert "transactional" in response.content.decode()
    assert not EmailTemplate.objects.exists()


def test_preview_with_a_chosen_contact(admin):
    template = make_template()
    Contact.objects.create(email="zoe@example.com", first_name="Zoé<b>")
    url = reverse(f"{URL}:preview_test", args=[template.pk])
    response = admin.get(url, {"q": "zoe"})
    assert response.status_code == 200
    contact = Contact.objects.get()
    assert f"?contact={contact.pk}" in response.content.decode()

    response = admin.get(url, {"contact": contact.pk})
    page = response.content.decode()
    assert "Welcome, Zoé&lt;b&gt;" in page  # the subject with the contact's name, escaped
    frame = admin.get(reverse(f"{URL}:preview_frame", args=[template.pk]), {"contact": contact.pk})
    assert frame.status_code == 200
    assert "Hello Zoé&lt;b&gt;" in frame.content.decode()
    assert "sandbox" in frame["Content-Security-Policy"]
    assert frame["X-Frame-Options"] == "SAMEORIGIN"
    # The choice is remembered for Wagtail's live preview panel too.
    assert admin.session["wagtail_journey.email_preview_contact"] == contact.pk


def test_without_contact_permission_previews_use_made_up_data(client, django_user_model):
    user = django_user_model.objects.create_user("writer", password="x", email="w@site.example")
    for codename in ("access_admin", "add_emailtemplate", "change_emailtemplate"):
        user.user_permissions.add(Permission.objects.get(codename=codename))
    client.force_login(user)
    template = make_template()
    contact = Contact.objects.create(email="secret@example.com", first_name="Secret")
    frame = client.get(reverse(f"{URL}:preview_frame", args=[template.pk]), {"contact": contact.pk})
    assert frame.status_code == 200
    assert "Secret" not in frame.content.decode() and "Hello Ana" in frame.content.decode()
    page = client.get(reverse(f"{URL}:preview_test", args=[template.pk]), {"q": "secret"})
    assert "secret@example.com" not in page.content.decode()


def test_every_url_needs_template_permission(client, django_user_model):
    user = django_user_model.objects.create_user("viewer", password="x", email="v@site.example")
    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(user)
    template = make_template()
    for name in ("preview_test", "preview_frame"):
        response = client.get(reverse(f"{URL}:{name}", args=[template.pk]))
        assert response.status_code in (302, 403), name
        assert b"Welcome" not in response.content
    response = client.post(reverse(f"{URL}:send_test", args=[template.pk]))
    assert response.status_code in (302, 403)
    assert mail.outbox == []
    client.logout()
    response = client.get(reverse(f"{URL}:preview_frame", args=[template.pk]))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_send_a_test_to_me(admin, admin_user):
    template = make_template()
    # The latest draft is what a test shows, before it is published.
    template.subject = "Draft subject {{ first_name }}"
    template.save_revision()
    contact = Contact.objects.create(email="ana@example.com", first_name="Ana")
    response = admin.post(
        reverse(f"{URL}:send_test", args=[template.pk]) + f"?contact={contact.pk}"
    )
    assert response.status_code == 302
    (message,) = mail.outbox
    assert message.to == ["editor@site.example"]
    assert message.subject == "[Test] Draft subject Ana"
    assert message.extra_headers["X-Journey-Test"] == "1"
    assert message.tags == ["journey-test"]
    html = message.alternatives[0][0]
    assert "This is a test" in html and "Hello Ana" in html
    assert message.body.startswith("This is a test")
    entry = ModelLogEntry.objects.get(action="wagtail_journey.email_test_sent")
    assert entry.label == template.name and "editor@site.example" not in str(entry.data)


@override_settings(WAGTAIL_JOURNEY={"EMAIL_TEST_RATE_LIMIT": (2, 3600)})
def test_tests_are_rate_limited_per_editor(admin):
    template = make_template()
    url = reverse(f"{URL}:send_test", args=[template.pk])
    for _ in range(3):
        admin.post(url)
    assert len(mail.outbox) == 2
    response = admin.get(reverse(f"{URL}:preview_test", args=[template.pk]))
    assert "many tests" in response.content.decode()


def test_edit_view_links_to_preview_and_test(admin):
    template = make_template()
    response = admin.get(reverse(f"{URL}:edit", args=[template.pk]))
    assert reverse(f"{URL}:preview_test", args=[template.pk]) in response.content.decode()


def test_live_preview_panel_renders_the_unsaved_form(admin):
    purpose = marketing_purpose()
    url = reverse(f"{URL}:preview_on_add")
    response = admin.post(
        url, _post("Hi {{ first_name }}", heading="Unsaved heading", purpose=purpose)
    )
    assert response.json()["is_valid"] is True
    response = admin.get(url, {"mode": ""})
    assert "Unsaved heading" in response.content.decode()
