"""Every Journey admin screen of the demo reads in words, in English and French
(issue 9, item 20): no Python reprs, no snake_case kinds, no stage slugs, no
"page #8", and no English left for a French editor.

An editor signs in, sets nothing but their language, and opens every listing,
every add form and the first few inspect and edit pages each listing links to.
A screenshot of each screen is kept in the test's tmp dir.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect
from wagtail.users.models import UserProfile

from wagtail_journey.kinds import KIND_LABELS
from wagtail_journey.stages import STAGE_LABELS

pytestmark = pytest.mark.e2e

LISTINGS = [
    "/admin/wagtail_journey/contact/",
    "/admin/wagtail_journey/formsubmission/",
    "/admin/wagtail_journey/touchpoint/",
    "/admin/wagtail_journey/segment/",
    "/admin/wagtail_journey/scoringrule/",
    "/admin/wagtail_journey/lifecycletransition/",
    "/admin/snippets/wagtail_journey/consentpurpose/",
    "/admin/snippets/wagtail_journey/pagejourneystage/",
]
ADD = [LISTINGS[0] + "add/"] + [url + "create/" for url in LISTINGS[3:6]]
REPORTS = ["/admin/journey/audience/"]
DETAIL = re.compile(r'href="(/admin/(?:snippets/)?wagtail_journey/[a-z]+/(?:inspect|edit)/\d+/)"')
REPR = re.compile(r"\{'|\[\{|StreamValue|<[a-z_.]+ object at|page #\d")
SNAKE = re.compile(r"(?<![\w@./-])[a-z]+_[a-z_]+(?![\w@./-])")
# English an editor must not meet in French: our labels, kinds and stages.
ENGLISH = [str(label) for label in (*KIND_LABELS.values(), *STAGE_LABELS.values())]
ENGLISH = [e for e in ENGLISH if e not in ("Lead", "Score", "Conversion")] + [
    "Members",
    "Last rebuilt",
    "Problem",
    "Rules",
    "Adjust the score by",
]


def sign_in(page: Page, language: str) -> None:
    user = User.objects.get(username="admin")
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = language
    profile.save()
    page.goto("/admin/login/")
    page.locator("#id_username").fill("admin")
    page.locator("#id_password").fill("journey-demo")
    page.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))


def screens(page: Page) -> list[str]:
    urls = [*LISTINGS, *ADD, *REPORTS]
    for listing in LISTINGS:
        page.goto(listing)
        urls += list(dict.fromkeys(DETAIL.findall(page.content())))[:3]
    return list(dict.fromkeys(urls))


@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_journey_screen_reads_in_words(page: Page, demo_site, language, tmp_path):
    from wagtail.models import Page as WagtailPage

    from wagtail_journey.models import ScoringRule, Segment

    # Demo content (a page "Customer stories", a rule "Unsubscribed") is the site's
    # own text, not the admin's.
    content = sorted(
        [
            *WagtailPage.objects.values_list("title", flat=True),
            *ScoringRule.objects.values_list("name", flat=True),
            *Segment.objects.values_list("name", flat=True),
        ],
        key=len,
        reverse=True,
    )
    sign_in(page, language)
    seen = screens(page)
    assert len(seen) > 20
    for url in seen:
        response = page.goto(url)
        assert response.status == 200, url
        main = page.locator("main").inner_text()
        name = re.sub(r"[^a-z0-9]+", "-", url).strip("-")
        page.screenshot(path=tmp_path / f"{language}-{name}.png", full_page=True)
        assert not REPR.search(main), (url, REPR.search(main).group(0))
        # Field values only: help texts may name a kind as an example.
        values = page.locator("main td, main dd, main h1, main h2, main li").all_inner_texts()
        snake = [m for text in values for m in SNAKE.findall(text)]
        assert not snake, (url, snake)
        if language == "fr":
            for title in content:
                main = main.replace(title, "")
            left = [e for e in ENGLISH if re.search(rf"(?<!\w){re.escape(e)}(?!\w)", main)]
            assert not left, (url, left)
    assert not page.context.outside_requests
