"""The contact edit form and contact page as an editor reads them (issue 9,
items 18 and 20): stages are a choice, the score moves through the ledger,
derived values are read-only and written in words."""

import pytest
from django.utils import timezone

from wagtail_journey import record
from wagtail_journey.models import Contact, ScoreChange, Touchpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(client, admin_user):
    client.force_login(admin_user)
    return client


def form_data(contact, **changes):
    data = {
        "email": contact.email,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "phone": "",
        "owner": "",
        "lifecycle_stage": contact.lifecycle_stage,
        "tags": "",
        "score_adjustment": "",
        "score_note": "",
    }
    data.update(changes)
    return data


@pytest.fixture
def contact(article):
    contact = record(
        "page_view",
        email="ana@example.com",
        page=article,
        utm={"source": "newsletter", "medium": "email", "campaign": "spring"},
    ).contact
    contact.refresh_from_db()
    return contact


def test_edit_form_offers_choices_and_no_raw_derived_fields(editor, contact, article):
    page = editor.get(f"/admin/wagtail_journey/contact/edit/{contact.pk}/").content.decode()
    for raw in ('name="score"', 'name="first_touch"', 'name="last_touch"', 'name="journey_stage"'):
        assert raw not in page
    assert '<select name="lifecycle_stage"' in page
    assert ">Marketing qualified lead</option>" in page
    # Read-only, in words: the campaign and the page title, not a dict or an id.
    assert "newsletter / email, campaign “spring”, on “" + article.title + "”" in page
    assert "{&#x27;" not in page and "manage.py" not in page


def test_saving_moves_the_stage_and_adjusts_the_score_through_the_ledger(editor, contact):
    url = f"/admin/wagtail_journey/contact/edit/{contact.pk}/"
    editor.get(url)
    # Meanwhile a worker scores the contact: the form must not write the old score back.
    Contact.objects.filter(pk=contact.pk).update(score=40)
    response = editor.post(
        url,
        form_data(
            contact,
            first_name="Ana",
            lifecycle_stage="customer",
            tags="VIP",
            score_adjustment="5",
            score_note="met at the fair",
            score="999",  # not a field of the form: ignored
        ),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    contact.refresh_from_db()
    assert (contact.first_name, contact.lifecycle_stage, contact.score) == ("Ana", "customer", 45)
    change = ScoreChange.objects.get(contact=contact)
    assert (change.reason, change.delta, change.label) == ("manual", 5, "met at the fair (admin)")
    stage = Touchpoint.objects.get(contact=contact, kind="stage_changed")
    assert stage.properties["to"] == "customer" and stage.properties["by"] == "admin"
    assert Touchpoint.objects.filter(contact=contact, kind="tag_added").count() == 1
    page = editor.get(f"/admin/wagtail_journey/contact/inspect/{contact.pk}/").content.decode()
    assert "met at the fair (admin)" in page and "Manual" in page


def test_an_adjustment_needs_a_note_and_a_stage_must_be_known(editor, contact):
    url = f"/admin/wagtail_journey/contact/edit/{contact.pk}/"
    page = editor.post(url, form_data(contact, score_adjustment="3")).content.decode()
    assert "Say why the score changes." in page
    page = editor.post(url, form_data(contact, lifecycle_stage="boss")).content.decode()
    assert "Select a valid choice" in page
    page = editor.post(url, form_data(contact, score_adjustment="10000000000", score_note="x"))
    assert "less than or equal to" in page.content.decode()
    contact.refresh_from_db()
    assert contact.score == 0 and contact.lifecycle_stage == "subscriber"
    assert not ScoreChange.objects.filter(contact=contact).exists()


def test_a_new_contact_can_be_created_with_a_stage(editor):
    response = editor.post(
        "/admin/wagtail_journey/contact/add/",
        {"email": "New@Example.com", "lifecycle_stage": "lead", "tags": "", "first_name": ""},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    contact = Contact.objects.get()
    assert (contact.email, contact.lifecycle_stage, contact.score) == ("new@example.com", "lead", 0)


def test_contact_page_and_listings_read_in_words(editor, contact, article):
    record("video_play", contact=contact, page=article, properties={"id": "intro"})
    page = editor.get(f"/admin/wagtail_journey/contact/inspect/{contact.pk}/").content.decode()
    assert "newsletter / email, campaign “spring”" in page
    assert "{&#x27;" not in page and "page #" not in page
    listing = editor.get("/admin/wagtail_journey/contact/").content.decode()
    assert "Subscriber" in listing and ">subscriber<" not in listing
    assert timezone.localtime(contact.last_activity_at).strftime("%Y") in listing
    touchpoints = editor.get("/admin/wagtail_journey/touchpoint/").content.decode()
    assert "Page view" in touchpoints and "Video play" in touchpoints
    assert ">page_view<" not in touchpoints and article.title in touchpoints
    tp = Touchpoint.objects.get(kind="video_play")
    inspect = editor.get(f"/admin/wagtail_journey/touchpoint/inspect/{tp.pk}/").content.decode()
    assert "id: intro" in inspect and "{&#x27;" not in inspect
