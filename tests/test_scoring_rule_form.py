"""Scoring rules are built from names editors know (issue 9, item 19): forms by
page and form name, touchpoint kinds by label, a never-seen kind flagged."""

import pytest

from tests.forms_helpers import form_id, make_landing_page, make_purposes
from wagtail_journey import record
from wagtail_journey.models import ScoringRule

pytestmark = pytest.mark.django_db

CREATE = "/admin/wagtail_journey/scoringrule/create/"


@pytest.fixture
def editor(client, admin_user):
    client.force_login(admin_user)
    return client


def rule_data(**changes):
    data = {"name": "Signed up", "active": "on", "kind": "form_submitted", "points": "10"}
    data.update(changes)
    return data


def test_the_form_field_lists_forms_under_their_pages(editor, home_page):
    page = make_landing_page(home_page, make_purposes())
    html = editor.get(CREATE).content.decode()
    assert f'<optgroup label="{page.title}">' in html
    assert f'<option value="{form_id(page)}">Newsletter signup</option>' in html
    assert "Any form" in html
    # Choosing it stores the form's stable id, and the rule scores that form.
    response = editor.post(CREATE, rule_data(form=form_id(page), page=page.pk))
    assert response.status_code == 302, response.content.decode()[:3000]
    rule = ScoringRule.objects.get()
    assert rule.form == form_id(page)
    contact = record(
        "form_submitted", email="a@example.com", page=page, properties={"form": form_id(page)}
    ).contact
    contact.refresh_from_db()
    assert contact.score == 10
    # Editing shows the chosen form selected, by name.
    edit = editor.get(f"/admin/wagtail_journey/scoringrule/edit/{rule.pk}/").content.decode()
    assert f'<option value="{form_id(page)}" selected>Newsletter signup</option>' in edit


def test_a_form_key_that_is_not_on_the_site_is_refused(editor, home_page):
    make_landing_page(home_page, make_purposes())
    html = editor.post(CREATE, rule_data(form="made-up")).content.decode()
    assert "Select a valid choice" in html
    assert not ScoringRule.objects.exists()


def test_known_kinds_are_suggested_with_labels(editor):
    record("video_play", email="v@example.com")
    html = editor.get(CREATE).content.decode()
    assert '<option value="email_opened">Email opened</option>' in html
    assert '<option value="video_play">Video play</option>' in html  # custom, seen
    listing_rule = ScoringRule.objects.create(name="Opens", kind="email_opened", points=1)
    listing = editor.get("/admin/wagtail_journey/scoringrule/").content.decode()
    assert listing_rule.name in listing and "Email opened" in listing


def test_a_kind_never_seen_is_saved_with_a_warning(editor):
    response = editor.post(CREATE, rule_data(kind="vidoe_play"), follow=True)
    html = response.content.decode()
    assert ScoringRule.objects.filter(kind="vidoe_play").exists()
    assert "No “Vidoe play” event has been recorded on this site yet" in html
    record("webinar_joined", email="w@example.com")
    html = editor.post(CREATE, rule_data(kind="webinar_joined"), follow=True).content.decode()
    assert "has been recorded" not in html
    html = editor.post(CREATE, rule_data(kind="page_view"), follow=True).content.decode()
    assert "has been recorded" not in html
