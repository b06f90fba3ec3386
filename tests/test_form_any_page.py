"""Form blocks in a site's own page type, rendered with ``{{ page.body }}``.

The demo's StoryPage has no mixin and renders its StreamField without block
context, as many sites do. The test client enforces CSRF here, as a browser
meets it.
"""

import pytest
from django.test import Client

from tests.forms_helpers import form_block, hidden_values, make_purposes
from wagtail_journey.models import ConsentRecord, Contact, FormSubmission, Touchpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def story(home_page):
    from demo.models import StoryPage

    purposes = make_purposes()
    page = StoryPage(
        title="Ask us",
        slug="ask",
        body=[{"type": "text", "value": "<p>Questions?</p>"}, form_block(purposes)],
    )
    home_page.add_child(instance=page)
    page.save_revision().publish()
    page.refresh_from_db()
    return page


@pytest.fixture
def browser():
    return Client(enforce_csrf_checks=True)


def block_id(page) -> str:
    return next(child.id for child in page.body if child.block_type == "form")


def fill(browser, page, **data) -> dict:
    html = browser.get(page.url).content.decode()
    return {**hidden_values(html, block_id(page)), "wj_form": block_id(page), **data}


def test_form_rendered_with_page_body_carries_the_csrf_token(browser, story):
    response = browser.get(story.url)
    html = response.content.decode()
    assert response.status_code == 200
    assert "csrfmiddlewaretoken" in hidden_values(html, block_id(story))
    assert f'action="/ask/#form-{block_id(story)}"' in html
    assert "private" in response["Cache-Control"]


def test_submission_in_a_page_type_without_mixin_is_stored_then_redirected(browser, story):
    data = fill(browser, story, email="lea@example.com", consent_privacy="on")
    response = browser.post(story.url, data)
    assert response.status_code == 303
    success = browser.get(response["Location"])
    assert "Thanks for signing up!" in success.content.decode()
    submission = FormSubmission.objects.get()
    assert submission.page_id == story.pk and submission.contact.email == "lea@example.com"
    assert Touchpoint.objects.filter(kind="form_submitted").count() == 1


def test_post_without_the_csrf_token_is_refused(browser, story):
    data = fill(browser, story, email="x@example.com", consent_privacy="on")
    del data["csrfmiddlewaretoken"]
    assert browser.post(story.url, data).status_code == 403
    assert not Contact.objects.exists()


def test_errors_are_shown_with_the_input_kept_in_page_body(browser, story):
    data = fill(browser, story, email="kim@example.com")  # required consent missing
    response = browser.post(story.url, data)
    html = response.content.decode()
    assert response.status_code == 400
    assert "Please tick this box to continue." in html
    assert 'value="kim@example.com"' in html
    # The re-rendered form can be sent as it is once corrected.
    retry = {**hidden_values(html, block_id(story)), "email": "kim@example.com"}
    retry["consent_privacy"] = "on"
    assert browser.post(story.url, retry).status_code == 303
    assert FormSubmission.objects.count() == 1


def test_reloading_the_success_page_sends_nothing_again(browser, story):
    data = fill(browser, story, email="once@example.com", consent_privacy="on")
    location = browser.post(story.url, data)["Location"]
    for _ in range(3):
        assert "Thanks for signing up!" in browser.get(location).content.decode()
    assert FormSubmission.objects.count() == 1


def test_one_rendered_form_is_accepted_once(browser, story):
    data = fill(browser, story, email="dup@example.com", consent_privacy="on")
    first = browser.post(story.url, data)
    again = browser.post(story.url, data)  # back button + resend, or a double click
    assert first.status_code == again.status_code == 303
    assert FormSubmission.objects.count() == 1
    assert ConsentRecord.objects.filter(purpose__key="privacy").count() == 1
    assert Touchpoint.objects.filter(kind="form_submitted").count() == 1
    # A freshly rendered form is a new submission.
    fresh = fill(browser, story, email="dup@example.com", consent_privacy="on")
    assert browser.post(story.url, fresh).status_code == 303
    assert FormSubmission.objects.count() == 2


def test_success_link_cannot_be_forged(browser, story):
    html = browser.get(f"{story.url}?wj_sent={block_id(story)[:8]}:forged:sig").content.decode()
    assert "Thanks for signing up!" not in html
    assert 'name="email"' in html


def test_form_post_to_a_page_without_that_form_is_refused_clearly(browser, story, home_page):
    data = fill(browser, story, email="lost@example.com", consent_privacy="on")
    response = browser.post(home_page.url, data)
    assert response.status_code == 410
    assert not Contact.objects.exists()
