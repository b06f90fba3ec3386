"""Every admin URL of the package checks the model permission; view permission means read.

The URLs come from the URL resolver (tests/admin_urls.py), so a listing, report,
chooser or action added later is covered without editing this file.
"""

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from tests.admin_urls import PERSONAL, make_one_of_each, package_admin_urls
from wagtail_journey.models import Contact, FormSubmission, Segment, Touchpoint

pytestmark = pytest.mark.django_db


def user_with(django_user_model, *codenames):
    """A Wagtail user with "access admin" and the given wagtail_journey permissions only."""
    user = django_user_model.objects.create_user(
        username=f"user-{len(codenames)}-{'-'.join(codenames)}"[:150], password="x"
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


@pytest.fixture
def objects(home_page):
    return make_one_of_each(home_page)


def assert_denied(response, label):
    assert response.status_code != 200, label
    assert response.status_code in (302, 403, 404, 405), (label, response.status_code)
    if response.status_code == 302:
        assert response["Location"] == reverse("wagtailadmin_home"), (label, response["Location"])
    html = response.content.decode(errors="replace")
    for value in PERSONAL:
        assert value not in html, (label, value)


def test_a_user_with_only_admin_access_is_denied_every_package_url(
    client, django_user_model, objects
):
    client.force_login(user_with(django_user_model))
    urls = package_admin_urls()
    assert len(urls) > 30  # the resolver walk found the package's admin
    names = {u.name for u in urls}
    # The URLs the frameworks add are among them (the ones the issue found open).
    assert "wagtail_journey_contact:history" in names and "wagtail_journey_contact:usage" in names
    assert any(n.startswith("wagtailsnippetchoosers_wagtail_journey_") for n in names)
    for admin_url in urls:
        for response, label in (
            (client.get(admin_url.url), f"GET {admin_url.name}"),
            (client.get(admin_url.url, {"export": "csv"}), f"CSV {admin_url.name}"),
            (
                client.post(admin_url.url, {"action": "score", "delta": "5"}),
                f"POST {admin_url.name}",
            ),
        ):
            assert_denied(response, label)
    # Nothing was changed or deleted by the POSTs.
    contact = Contact.objects.get()
    assert contact.score == 0 and contact.email == PERSONAL[0]
    assert FormSubmission.objects.count() == 1 and Touchpoint.objects.count() >= 1
    assert Segment.objects.count() == 1


@pytest.mark.parametrize("codename", ["view_formsubmission", "view_touchpoint", "view_contact"])
def test_the_view_permission_alone_gives_read_access(client, django_user_model, objects, codename):
    client.force_login(user_with(django_user_model, codename))
    model_name = codename.removeprefix("view_")
    # wagtail-modeladmin listings (``..._touchpoint_modeladmin_index``) and snippet
    # viewsets (``wagtail_journey_contact:list``) name their URLs differently.
    readable = [
        u
        for u in package_admin_urls()
        if f"_{model_name}_modeladmin_" in u.name
        or u.name.startswith(f"wagtail_journey_{model_name}:")
    ]
    opened = set()
    for admin_url in readable:
        response = client.get(admin_url.url)
        if ":" in admin_url.name:
            action = admin_url.name.split(":", 1)[1]
            action = {"list": "index", "list_results": "index"}.get(action, action)
        else:
            action = admin_url.name.rsplit("_", 1)[1]
        if action in ("index", "inspect", "history", "history_results"):
            assert response.status_code == 200, admin_url.name
            opened.add(action)
        else:  # create, edit, delete, usage, the contact page POST actions: more than view
            assert_denied(response, admin_url.name)
    assert {"index", "inspect", "history"} <= opened
    # Read access includes what the listing shows.
    index = [u for u in readable if u.name.endswith(("_index", ":list"))][0]
    html = client.get(index.url).content.decode()
    assert any(value in html for value in PERSONAL)


def test_the_view_permission_of_one_model_opens_no_other(client, django_user_model, objects):
    client.force_login(user_with(django_user_model, "view_touchpoint"))
    for admin_url in package_admin_urls():
        if admin_url.model is Touchpoint or "_touchpoint_" in admin_url.name:
            continue
        assert_denied(client.get(admin_url.url), admin_url.name)


def test_view_permissions_can_be_given_in_the_group_editor(admin_client):
    """The view permissions appear in Settings → Groups (Wagtail lists registered ones)."""
    html = admin_client.get(reverse("wagtailusers_groups:add")).content.decode()
    for codename in ("view_formsubmission", "view_touchpoint", "view_contact"):
        permission = Permission.objects.get(
            content_type__app_label="wagtail_journey", codename=codename
        )
        assert f'value="{permission.pk}"' in html, codename


def test_a_superuser_opens_every_package_url_without_error(admin_client, objects):
    for admin_url in package_admin_urls():
        response = admin_client.get(admin_url.url)
        assert response.status_code < 500, admin_url.name
