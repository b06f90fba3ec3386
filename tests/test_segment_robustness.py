"""Visitor data never breaks editor rules; a failing segment never stops the
others; member counts agree with the member list (issue 9, items 3 and 14)."""

import pytest
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.urls import reverse

from tests.segment_helpers import group, make_segment, r
from wagtail_journey import record
from wagtail_journey.models import Contact, Segment
from wagtail_journey.segment_rules import TagRule
from wagtail_journey.segments import (
    rebuild_all_segments,
    rebuild_segment,
    segments_reaction,
    update_contact_segments,
)

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture
def editor(client, admin_user):
    client.force_login(admin_user)
    return client


def big_spenders():
    return make_segment(
        "Big spenders",
        group(r("event_sum", kind="order_completed", property="total", at_least=10)),
    )


@pytest.mark.parametrize(
    "junk",
    ["lots", "12 €", {"nested": 1}, [1, 2], True, None, "", 10**30],
)
def test_a_non_numeric_property_does_not_match_and_breaks_nothing(editor, junk):
    segment = big_spenders()
    everyone = make_segment("Everyone", group(r("score", min=0, max=None)))
    buyer = record("order_completed", email="buyer@example.com", properties={"total": 12}).contact
    odd = record("order_completed", email="odd@example.com", properties={"total": junk}).contact
    # The reaction for the visitor who sent junk: enters the other segment, no error.
    segments_reaction(record("page_view", contact=odd))
    assert set(odd.segment_memberships.values_list("segment__name", flat=True)) >= {"Everyone"}
    rebuild_all_segments()
    members = set(segment.memberships.values_list("contact__email", flat=True))
    expected = {"buyer@example.com"} | (
        {"odd@example.com"} if isinstance(junk, int) and not isinstance(junk, bool) else set()
    )
    assert members == expected
    segment.refresh_from_db()
    everyone.refresh_from_db()
    assert segment.error == "" and everyone.error == ""
    response = editor.post(reverse("wagtail_journey_segment_rebuild", args=[segment.pk]))
    assert response.status_code == 302
    assert buyer.pk in set(segment.memberships.values_list("contact_id", flat=True))


def test_a_large_total_is_compared_without_overflow(editor):
    segment = big_spenders()
    record("order_completed", email="a@example.com", properties={"total": 1.7e308})
    record("order_completed", email="a@example.com", properties={"total": 1.7e308})
    record("order_completed", email="b@example.com", properties={"total": 9})
    rebuild_segment(segment)
    assert list(segment.memberships.values_list("contact__email", flat=True)) == ["a@example.com"]


@pytest.fixture
def broken_tag_rule(monkeypatch):
    """A rule the database refuses (as an unsafe cast would be): a tag rule."""

    def q(self, value):
        return Q(pk__in=RawSQL("SELECT no_such_column FROM no_such_table", []))

    monkeypatch.setattr(TagRule, "q", q)


def test_a_segment_the_database_refuses_is_recorded_and_never_stops_the_others(
    editor, broken_tag_rule
):
    broken = make_segment("Broken", group(r("tag", tag="vip")))
    fine = make_segment("Fine", group(r("score", min=0, max=None)))
    contact = Contact.objects.create(email="c@example.com")

    # The reaction: the fine segment is applied, the broken one recorded.
    entered, _left = update_contact_segments(contact.pk)
    assert entered == [fine.pk]
    broken.refresh_from_db()
    assert "could not evaluate" in broken.error

    # The scheduled rebuild goes on past it.
    results = rebuild_all_segments()
    assert results[fine.pk] == (0, 0) and isinstance(results[broken.pk], str)

    # The admin: no 500 anywhere, the problem is shown on the listing, the edit
    # screen and the segment's page, and the Rebuild button says what is wrong.
    response = editor.post(
        reverse("wagtail_journey_segment_rebuild", args=[broken.pk]), follow=True
    )
    assert response.status_code == 200
    assert "could not evaluate" in response.content.decode()
    for url in (
        "/admin/wagtail_journey/segment/",
        f"/admin/wagtail_journey/segment/edit/{broken.pk}/",
        f"/admin/wagtail_journey/segment/inspect/{broken.pk}/",
    ):
        page = editor.get(url)
        assert page.status_code == 200, url
        assert "could not evaluate" in page.content.decode(), url
    assert (
        "could not evaluate"
        not in editor.get(f"/admin/wagtail_journey/segment/edit/{fine.pk}/").content.decode()
    )


def test_the_live_count_of_rules_the_database_refuses_says_so(editor, broken_tag_rule):
    from wagtail.test.utils.form_data import nested_form_data, streamfield

    tag = ("tag", {"tag": "vip", "negate": ""})
    groups = [("group", {"match": "all", "rules": streamfield([tag])})]
    data = nested_form_data({"match": "all", "rules": streamfield(groups)})
    response = editor.post(reverse("wagtail_journey_segment_count"), data)
    assert response.status_code == 200
    assert "could not evaluate" in response.json()["error"]


def test_saving_a_segment_that_the_database_refuses_answers_with_a_message(editor, broken_tag_rule):
    from tests.test_scoring_admin import rules_post

    data = {"name": "Tagged", "kind": "dynamic", "active": "on", "description": ""}
    data.update(rules_post(min=0))
    data["rules-0-value-rules-0-type"] = "tag"
    data["rules-0-value-rules-0-value-tag"] = "vip"
    response = editor.post("/admin/wagtail_journey/segment/create/", data, follow=True)
    assert response.status_code == 200
    assert "could not evaluate" in response.content.decode()


# --- item 14: counts agree with the member list --------------------------------------


def listed_count(editor, segment):
    """The number in the segments listing's Members column for ``segment``."""
    import re

    page = editor.get("/admin/wagtail_journey/segment/").content.decode()
    row = page[page.index(f"/segment/delete/{segment.pk}/") :]
    row = row[: row.index("</tr>")]
    return int(re.search(r'class="field-members[^"]*">\s*(\d+)', row).group(1))


def members_on_page(editor, segment):
    page = editor.get(f"/admin/wagtail_journey/segment/inspect/{segment.pk}/").content.decode()
    return page


def test_a_saved_segment_shows_its_members_at_once_and_counts_follow_activity(editor):
    from tests.test_scoring_admin import rules_post

    for i in range(3):
        Contact.objects.create(email=f"hot{i}@example.com", score=60)
    Contact.objects.create(email="cold@example.com", score=1)
    data = {"name": "Hot", "kind": "dynamic", "active": "on", "description": ""}
    data.update(rules_post(min=50))
    assert editor.post("/admin/wagtail_journey/segment/create/", data).status_code == 302
    segment = Segment.objects.get(name="Hot")
    assert listed_count(editor, segment) == 3
    page = members_on_page(editor, segment)
    assert "3 members" in page and page.count("hot") == 3

    # Incremental update (the reaction): a new member shows in both places.
    Contact.objects.filter(email="cold@example.com").update(score=70)
    segments_reaction(record("page_view", email="cold@example.com"))
    assert listed_count(editor, segment) == 4
    assert "4 members" in members_on_page(editor, segment)
    segment.refresh_from_db()
    assert segment.member_count == 4  # the stored cache follows too


def test_saving_on_a_large_site_computes_members_in_a_task(
    editor, monkeypatch, django_capture_on_commit_callbacks
):
    from tests.test_scoring_admin import rules_post
    from wagtail_journey import segments

    monkeypatch.setattr(segments, "INLINE_REBUILD_MAX_CONTACTS", 1)
    Contact.objects.create(email="a@example.com", score=60)
    Contact.objects.create(email="b@example.com", score=60)
    data = {"name": "Hot", "kind": "dynamic", "active": "on", "description": ""}
    data.update(rules_post(min=50))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = editor.post("/admin/wagtail_journey/segment/create/", data, follow=True)
    assert "computed in the background" in response.content.decode()
    assert callbacks  # the task was enqueued after commit (run at once: sync cluster)
    segment = Segment.objects.get(name="Hot")
    assert listed_count(editor, segment) == 2


# --- item 13: the contact page header --------------------------------------------------


def test_contact_page_header_has_no_stray_action_button(editor):
    contact = Contact.objects.create(email="h@example.com")
    page = editor.get(f"/admin/wagtail_journey/contact/inspect/{contact.pk}/").content.decode()
    action = reverse("wagtail_journey_contact:action", args=[contact.pk])
    # The action endpoint is only ever a form target (POST), never a link.
    assert f'href="{action}"' not in page
    assert page.count(f'action="{action}"') >= 3
