"""Editors manage rules, stages and segments in the Wagtail admin."""

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from wagtail.test.utils.form_data import nested_form_data, streamfield

from tests.segment_helpers import group, make_segment, r
from wagtail_journey import record
from wagtail_journey.models import Contact, ScoringRule, Segment, Touchpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(client, admin_user):
    client.force_login(admin_user)
    return client


def rules_post(match="all", **score):
    return nested_form_data(
        {
            "match": match,
            "rules": streamfield(
                [
                    (
                        "group",
                        {
                            "match": "all",
                            "rules": streamfield(
                                [("score", {"min": score.get("min", ""), "max": "", "negate": ""})]
                            ),
                        },
                    )
                ]
            ),
        }
    )


def test_listings_and_forms_render(editor, article):
    ScoringRule.objects.create(name="Pricing visit", kind="page_view", page=article, points=5)
    make_segment("Hot", group(r("score", min=50, max=None)))
    for path in [
        "/admin/wagtail_journey/scoringrule/",
        "/admin/wagtail_journey/scoringrule/create/",
        "/admin/wagtail_journey/lifecycletransition/",
        "/admin/wagtail_journey/lifecycletransition/create/",
        "/admin/wagtail_journey/segment/",
        "/admin/wagtail_journey/segment/create/",
    ]:
        response = editor.get(path)
        assert response.status_code == 200, path
    assert b"Pricing visit" in editor.get("/admin/wagtail_journey/scoringrule/").content
    edit = editor.get(f"/admin/wagtail_journey/segment/edit/{Segment.objects.get().pk}/")
    assert b"wj-live-count" in edit.content
    assert b"segment-live-count.js" in edit.content


def test_editor_creates_a_scoring_rule(editor):
    response = editor.post(
        "/admin/wagtail_journey/scoringrule/create/",
        {"name": "Opened", "active": "on", "kind": "email_opened", "points": "2", "cap_count": "3"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    rule = ScoringRule.objects.get()
    assert (rule.points, rule.cap_count, rule.cap_period) == (2, 3, "")


def test_live_count_endpoint(editor, client):
    Contact.objects.create(email="a@example.com", score=70)
    Contact.objects.create(email="b@example.com", score=10)
    url = reverse("wagtail_journey_segment_count")
    assert editor.post(url, rules_post(min=50)).json()["count"] == 1
    assert editor.post(url, rules_post(min="")).json()["count"] == 2
    bad = editor.post(url, {"rules-count": "1", "rules-0-type": "nope"}).json()
    assert bad["count"] is None and bad["error"]


def test_live_count_with_an_empty_group_counts_the_others(editor):
    Contact.objects.create(email="a@example.com", score=70)
    Contact.objects.create(email="b@example.com", score=10)

    def post(*second_group_rules):
        score = ("score", {"min": 50, "max": "", "negate": ""})
        groups = [
            ("group", {"match": "all", "rules": streamfield([score])}),
            ("group", {"match": "all", "rules": streamfield(list(second_group_rules))}),
        ]
        data = nested_form_data({"match": "all", "rules": streamfield(groups)})
        return editor.post(reverse("wagtail_journey_segment_count"), data).json()

    assert post() == {"count": 1, "label": "1 contact matches these rules."}
    # A rule left half-filled: words, not "Validation error in StreamBlock".
    assert post(("tag", {"tag": "", "negate": ""})) == {
        "count": None,
        "error": "Complete the rules to see how many contacts match.",
    }


def test_live_count_needs_permission(client, django_user_model):
    user = django_user_model.objects.create_user("viewer", password="x")
    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(user)
    response = client.post(reverse("wagtail_journey_segment_count"), rules_post(min=1))
    # Wagtail turns PermissionDenied in admin views into a redirect with a message.
    assert response.status_code in (302, 403)
    assert response.get("Content-Type", "").startswith("text/html")
    client.logout()
    response = client.post(reverse("wagtail_journey_segment_count"), rules_post(min=1))
    assert response.status_code in (302, 403)


def test_editor_saves_a_segment_with_groups(editor):
    data = {"name": "Engaged", "kind": "dynamic", "active": "on", "description": ""}
    data.update(rules_post(min=5))
    response = editor.post("/admin/wagtail_journey/segment/create/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    segment = Segment.objects.get()
    assert segment.rules[0].value["rules"][0].value["min"] == 5


def test_contact_page_explains_the_score_and_editors_act(editor, article):
    ScoringRule.objects.create(name="Read the pricing page", kind="page_view", points=7)
    contact = record("page_view", email="c@example.com", page=article).contact
    url = f"/admin/wagtail_journey/contact/inspect/{contact.pk}/"
    page = editor.get(url).content.decode()
    assert "Score: 7" in page and "Read the pricing page" in page and "+7" in page
    action = reverse("wagtail_journey_contact:action", args=[contact.pk])
    editor.post(action, {"action": "stage", "stage": "customer"})
    editor.post(action, {"action": "add_tag", "tags": "vip, beta"})
    editor.post(action, {"action": "remove_tag", "tag": "beta"})
    editor.post(action, {"action": "score", "delta": "-2", "note": "duplicate"})
    static = make_segment("Picked", kind=Segment.Kind.STATIC)
    editor.post(action, {"action": "add_segment", "segment": static.pk})
    contact.refresh_from_db()
    assert contact.lifecycle_stage == "customer"
    assert list(contact.tags.names()) == ["vip"]
    assert contact.score == 5
    assert static.memberships.filter(contact=contact).exists()
    assert Touchpoint.objects.filter(contact=contact, kind="stage_changed").exists()
    page = editor.get(url).content.decode()
    assert "duplicate (admin)" in page and "Picked" in page


def test_contact_page_shows_each_decay_runs_share(editor, django_assert_max_num_queries):
    from datetime import timedelta

    from django.utils import timezone

    from wagtail_journey.scoring import add_manual_change, apply_decay

    ScoringRule.objects.create(name="Webinar", kind="form_submitted", points=30)
    now = timezone.now()
    contact = record("form_submitted", email="d@example.com", occurred_at=now).contact
    apply_decay(now + timedelta(days=100), {"mode": "halve", "days": 90})  # 30 -> 15
    add_manual_change(contact, 4, "Called back")  # 19
    apply_decay(now + timedelta(days=100), {"mode": "subtract", "points": 5, "days": 90})  # 14
    for _ in range(30):  # a long ledger costs no more queries
        add_manual_change(contact, 1, "Meeting")  # 44
    url = f"/admin/wagtail_journey/contact/inspect/{contact.pk}/"
    with django_assert_max_num_queries(25):
        page = editor.get(url).content.decode()
    assert "Score: 44" in page
    assert "Halved after 90 days without activity" in page and "-15" in page
    assert "5 points off after 90 days without activity" in page and "-5" in page
    # Applied order, newest first: the subtract run after the correction, the halving before.
    assert page.index("Meeting") < page.index("5 points off") < page.index("Called back")
    assert page.index("Called back") < page.index("Halved") < page.index("Webinar")
    assert "add up to" not in page  # every point explained
    contact.refresh_from_db()
    assert contact.decay_runs  # kept for the replay, but not shown raw to editors
    assert contact.decay_runs not in page and "last decay run" not in page


def test_deleted_page_shows_a_clear_error_in_the_admin(editor, article):
    rule = ScoringRule.objects.create(name="Pricing", kind="page_view", page=article, points=5)
    segment = make_segment(
        "Readers",
        group(r("visited_page", page=article.pk, include_subpages=False, within_days=None)),
    )
    article.delete()
    listing = editor.get("/admin/wagtail_journey/segment/").content.decode()
    assert "no longer exists" in listing
    inspect = editor.get(f"/admin/wagtail_journey/segment/inspect/{segment.pk}/").content.decode()
    assert "This segment cannot be computed" in inspect
    response = editor.post(
        reverse("wagtail_journey_segment_rebuild", args=[segment.pk]), follow=True
    )
    assert "no longer exists" in response.content.decode()
    assert "was deleted" in editor.get("/admin/wagtail_journey/scoringrule/").content.decode()
    edit = editor.get(f"/admin/wagtail_journey/scoringrule/edit/{rule.pk}/")
    assert edit.status_code == 200


def test_rebuild_and_csv_import_views(editor):
    Contact.objects.create(email="a@example.com", score=70)
    dynamic = make_segment("Hot", group(r("score", min=50, max=None)))
    editor.post(reverse("wagtail_journey_segment_rebuild", args=[dynamic.pk]))
    dynamic.refresh_from_db()
    assert dynamic.member_count == 1
    static = make_segment("List", kind=Segment.Kind.STATIC)
    upload = SimpleUploadedFile("list.csv", b"email\na@example.com\nnope@example.com\n")
    response = editor.post(
        reverse("wagtail_journey_segment_import", args=[static.pk]), {"file": upload}, follow=True
    )
    assert "1 contact added. 1 address is not a contact." in response.content.decode()
    page = editor.get(f"/admin/wagtail_journey/segment/inspect/{static.pk}/").content.decode()
    assert "a@example.com" in page


def test_segment_page_describes_rules_in_words(editor, article):
    segment = make_segment(
        "Readers",
        group(
            r("visited_page", page=article.pk, include_subpages=True, within_days=30),
            r("lifecycle_stage", stages=["lead", "mql"]),
            match="any",
        ),
        group(r("tag", tag="vip", negate=True), r("event_count", kind="video_play", at_least=2)),
    )
    page = editor.get(f"/admin/wagtail_journey/segment/inspect/{segment.pk}/").content.decode()
    assert (
        f"Visited a page: page “{article.title}”, or its subpages, within the last 30 days"
        " or Lifecycle stage: Lead, Marketing qualified lead"
    ) in page
    assert "Not: Has tag: “vip” and Number of events: touchpoint kind “Video play”" in page
    assert "StreamValue" not in page and "{&#x27;" not in page and "&lt;" not in page
