"""Bulk actions on the contact list (issue 14, item 1): tag, untag, assign an
owner, add to / remove from a static segment, export; each permission-checked,
"all in listing" limited to what the listing shows, big selections refused."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from wagtail.models import ModelLogEntry

from tests.segment_helpers import make_segment
from wagtail_journey.contacts import bulk
from wagtail_journey.models import Contact, Segment, Touchpoint

pytestmark = pytest.mark.django_db


def action_url(action: str, *ids, **params) -> str:
    from urllib.parse import urlencode

    query = (
        [("id", i) for i in ids]
        + list(params.items())
        + [("next", "/admin/wagtail_journey/contact/")]
    )
    return (
        reverse("wagtail_bulk_action", args=["wagtail_journey", "contact", action])
        + "?"
        + urlencode(query)
    )


@pytest.fixture
def editor(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def trio():
    return [
        Contact.objects.create(email=f"{name}@example.com", first_name=name.title())
        for name in ("ana", "bruno", "carla", "dora")
    ][:3]


def user_with(django_user_model, *codenames):
    user = django_user_model.objects.create_user(
        username="-".join(codenames) or "none", password="x"
    )
    group = Group.objects.create(name=user.username)
    group.permissions.add(
        Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin"),
        *Permission.objects.filter(
            content_type__app_label="wagtail_journey", codename__in=codenames
        ),
    )
    user.groups.add(group)
    return user


def test_the_listing_offers_the_bulk_actions(editor, trio):
    html = editor.get("/admin/wagtail_journey/contact/").content.decode()
    for action in (
        "tag",
        "untag",
        "add_to_segment",
        "remove_from_segment",
        "assign_owner",
        "export",
    ):
        assert reverse("wagtail_bulk_action", args=["wagtail_journey", "contact", action]) in html
    assert "data-bulk-action-checkbox" in html


def test_tag_three_contacts(editor, trio):
    ids = [c.pk for c in trio]
    confirm = editor.get(action_url("tag", *ids))
    assert confirm.status_code == 200
    page = confirm.content.decode()
    assert all(c.email in page for c in trio) and "dora@example.com" not in page
    response = editor.post(action_url("tag", *ids), {"tags": "VIP, Fair 2026"}, follow=True)
    assert response.status_code == 200
    assert "3 contacts got a new tag." in response.content.decode()
    for contact in trio:
        assert sorted(contact.tags.names()) == ["Fair 2026", "VIP"]
    assert Touchpoint.objects.filter(kind="tag_added").count() == 6
    assert not Contact.objects.get(email="dora@example.com").tags.exists()
    entries = ModelLogEntry.objects.filter(action="wagtail_journey.contact.tag")
    assert entries.count() == 3
    assert all("@" not in e.label and "Ana" not in e.label for e in entries)
    # Tagging again adds nothing and says so.
    response = editor.post(action_url("tag", *ids), {"tags": "vip"}, follow=True)
    assert "0 contacts got a new tag." in response.content.decode()
    assert Touchpoint.objects.filter(kind="tag_added").count() == 6


def test_untag(editor, trio):
    from wagtail_journey.tags import add_tags

    for contact in trio:
        add_tags(contact, "VIP", "keep")
    response = editor.post(
        action_url("untag", trio[0].pk, trio[1].pk), {"tags": "vip"}, follow=True
    )
    assert "Tags were removed from 2 contacts." in response.content.decode()
    assert [sorted(c.tags.names()) for c in trio] == [["keep"], ["keep"], ["VIP", "keep"]]


def test_bad_tags_are_a_form_error(editor, trio):
    response = editor.post(action_url("tag", trio[0].pk), {"tags": "x" * 150})
    assert response.status_code == 200
    assert "A tag has at most 100 characters." in response.content.decode()
    response = editor.post(action_url("tag", trio[0].pk), {"tags": " , "})
    assert "Enter at least one tag." in response.content.decode()
    assert not trio[0].tags.exists()


def test_assign_owner_and_nobody(editor, trio, admin_user):
    ids = [c.pk for c in trio[:2]]
    page = editor.get(action_url("assign_owner", *ids)).content.decode()
    assert "Nobody" in page
    response = editor.post(action_url("assign_owner", *ids), {"owner": admin_user.pk}, follow=True)
    assert "2 contacts have a new owner." in response.content.decode()
    assert [Contact.objects.get(pk=i).owner_id for i in ids] == [admin_user.pk] * 2
    assert Contact.objects.get(pk=trio[2].pk).owner_id is None
    editor.post(action_url("assign_owner", *ids), {"owner": ""})
    assert not Contact.objects.filter(pk__in=ids, owner__isnull=False).exists()
    response = editor.post(action_url("assign_owner", *ids), {"owner": "99999"})
    assert response.status_code == 200  # the form again, with its error


def test_add_to_and_remove_from_a_static_segment(editor, trio):
    static = make_segment("Picked", kind=Segment.Kind.STATIC)
    dynamic = make_segment("Rules")
    ids = [c.pk for c in trio]
    response = editor.post(action_url("add_to_segment", *ids), {"segment": static.pk}, follow=True)
    assert "3 contacts were added to the segment." in response.content.decode()
    assert static.memberships.count() == 3
    static.refresh_from_db()
    assert static.member_count == 3
    assert Touchpoint.objects.filter(kind="segment_entered").count() == 3
    response = editor.post(
        action_url("remove_from_segment", ids[0]), {"segment": static.pk}, follow=True
    )
    assert "1 contact was removed from the segment." in response.content.decode()
    assert static.memberships.count() == 2
    # A dynamic segment is not offered, and not accepted.
    page = editor.get(action_url("add_to_segment", *ids)).content.decode()
    assert "Picked" in page and "Rules" not in page
    response = editor.post(action_url("add_to_segment", *ids), {"segment": dynamic.pk})
    assert "Choose one of the static segments." in response.content.decode()
    assert not dynamic.memberships.exists()


def test_export_the_selection_formula_safe(editor, trio):
    Contact.objects.filter(pk=trio[0].pk).update(last_name="=1+2")
    response = editor.post(action_url("export", trio[0].pk, trio[1].pk), {"format": "csv"})
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(body)))
    assert len(rows) == 3
    assert {r[0] for r in rows[1:]} == {"ana@example.com", "bruno@example.com"}
    assert "'=1+2" in body
    xlsx = editor.post(action_url("export", trio[0].pk), {"format": "xlsx"})
    assert "spreadsheetml" in xlsx["Content-Type"]


def test_all_in_listing_means_what_the_listing_shows(editor, trio):
    static = make_segment("Fair", kind=Segment.Kind.STATIC)
    from wagtail_journey.segments import add_static_members

    add_static_members(static, [trio[0].pk, trio[2].pk])
    url = action_url("tag", "all", segment=static.pk)
    page = editor.get(url).content.decode()
    assert "ana@example.com" in page and "bruno@example.com" not in page
    editor.post(url, {"tags": "fair"})
    tagged = set(Contact.objects.filter(tags__name="fair").values_list("email", flat=True))
    assert tagged == {"ana@example.com", "carla@example.com"}
    # Search narrows it too.
    editor.post(action_url("tag", "all", q="bruno"), {"tags": "b"})
    assert set(Contact.objects.filter(tags__name="b").values_list("email", flat=True)) == {
        "bruno@example.com"
    }


def test_too_many_contacts_are_refused_before_anything_changes(editor, trio, monkeypatch):
    monkeypatch.setattr(bulk, "MAX_CONTACTS", 2)
    response = editor.post(action_url("tag", "all"), {"tags": "x"}, follow=True)
    assert "a bulk action changes at most 2" in response.content.decode()
    assert not Touchpoint.objects.filter(kind="tag_added").exists()


@pytest.mark.parametrize("ids", [["abc"], ["-1"], ["99999999999999999999999"], [], ["1\x00"]])
def test_junk_selections_never_answer_500(editor, trio, ids):
    response = editor.get(action_url("tag", *ids))
    assert response.status_code in (200, 302, 400)
    response = editor.post(action_url("tag", *ids), {"tags": "x"})
    assert response.status_code in (200, 302, 400)
    assert not Touchpoint.objects.filter(kind="tag_added").exists()


@pytest.mark.parametrize(
    "action", ["tag", "untag", "assign_owner", "add_to_segment", "remove_from_segment", "export"]
)
def test_every_action_checks_the_permission(client, django_user_model, trio, action):
    static = make_segment("Picked", kind=Segment.Kind.STATIC)
    data = {"tags": "x", "owner": "", "segment": static.pk, "format": "csv"}
    ids = [c.pk for c in trio]
    for codenames in [(), ("view_touchpoint",)]:
        client.force_login(user_with(django_user_model, *codenames))
        for response in (
            client.get(action_url(action, *ids)),
            client.post(action_url(action, *ids), data),
        ):
            assert response.status_code in (302, 403), (action, codenames)
            assert "ana@example.com" not in response.content.decode(errors="replace")
    reader = user_with(django_user_model, "view_contact")
    client.force_login(reader)
    response = client.post(action_url(action, *ids), data)
    if action == "export":  # reading is what the view permission gives
        assert response.status_code == 200
    else:
        assert response.status_code in (302, 403)
    assert not Touchpoint.objects.filter(
        kind__in=["tag_added", "tag_removed", "segment_entered"]
    ).exists()
    assert not Contact.objects.filter(owner__isnull=False).exists()
    changer = user_with(django_user_model, "change_contact")
    client.force_login(changer)
    response = client.post(action_url(action, *ids), data)
    assert response.status_code in (200, 302)
