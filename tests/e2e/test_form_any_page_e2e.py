"""A form block in the site's own page type rendered with {{ page.body }}, in chromium:
the same rendered form sent twice, the success page reloaded, back to the form: one
submission (issue 9 item 16, issue 10 item 2)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.forms_helpers import form_block
from wagtail_journey.models import ConsentPurpose, FormSubmission, Touchpoint

pytestmark = pytest.mark.e2e

PRIVACY = "I have read and accept the privacy policy."


@pytest.fixture
def story(demo_site):
    from demo.models import HomePage, StoryPage

    privacy = ConsentPurpose.objects.get(key="privacy")
    page = StoryPage(
        title="Ask us anything",
        slug="ask",
        body=[
            {"type": "text", "value": "<p>We answer within a day.</p>"},
            form_block([privacy], name="Question", success_message="<p>Got it, thanks!</p>"),
        ],
    )
    HomePage.objects.first().add_child(instance=page)
    page.save_revision().publish()
    return page


def test_submit_reload_and_resend_store_one_submission(page: Page, story, tmp_path):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(story.url)
    page.get_by_role("textbox", name="Email").fill("reader@example.com")
    page.get_by_role("checkbox", name=PRIVACY).check()
    # The same rendered form sent twice (a double click, a flaky connection's retry):
    # once by script with the form's own fields, once by the button.
    status = page.evaluate(
        """async () => {
            const form = document.querySelector("section.wj-form form");
            const body = new URLSearchParams(new FormData(form));
            const r = await fetch(form.action, {method: "POST", body, redirect: "manual"});
            return r.type;
        }"""
    )
    assert status == "opaqueredirect"  # the 303 of a stored submission
    page.get_by_role("button", name="Sign up").click()

    expect(page.get_by_role("status")).to_have_text("Got it, thanks!")
    assert "?wj_sent=" in page.url
    page.screenshot(path=tmp_path / "story-success.png", full_page=True)
    page.reload()  # post/redirect/get: reloading sends nothing
    expect(page.get_by_role("status")).to_have_text("Got it, thanks!")
    page.go_back()  # back to the form page, served afresh (Cache-Control: no-cache)
    expect(page.get_by_role("button", name="Sign up")).to_be_visible()

    assert FormSubmission.objects.filter(page=story).count() == 1
    assert Touchpoint.objects.filter(kind="form_submitted", page=story).count() == 1
