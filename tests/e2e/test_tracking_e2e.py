"""journey.js in a real browser: consent, then a custom event lands as a touchpoint."""

import pytest
from wagtail.models import Page, Site

from demo.models import ArticlePage, HomePage
from tests.e2e.waiting import wait_for
from wagtail_journey.models import Touchpoint

pytestmark = pytest.mark.e2e


@pytest.fixture
def site_article(live_server, django_db_serialized_rollback):
    root = Page.get_first_root_node()
    home = HomePage(title="Home", slug="e2e-home")
    root.add_child(instance=home)
    Site.objects.update_or_create(
        is_default_site=True, defaults={"hostname": "localhost", "port": 80, "root_page": home}
    )
    article = ArticlePage(title="Article", slug="article")
    home.add_child(instance=article)
    return article


def test_journey_js_custom_event_lands_as_a_touchpoint(live_server, page, site_article):
    # Chromium drops keepalive requests (navigator.sendBeacon) that go through
    # Playwright's request interception, so this test lifts the route guard; the
    # browser's host-resolver rules (conftest) still keep it on this machine.
    page.context.unroute("**/*")
    page.goto(f"{live_server.url}/article/")
    banner = page.locator("[data-journey-banner]")
    banner.get_by_role("button", name="Accept analytics").click()
    assert wait_for(lambda: page.evaluate("document.cookie").find("wj_c=1") >= 0)
    # The page consent was given on is the visitor's first view (issue 9, item 17).
    assert wait_for(lambda: Touchpoint.objects.filter(kind="page_view").exists())
    page.reload()  # now a tracked page view
    assert wait_for(lambda: Touchpoint.objects.filter(kind="page_view").count() == 2)
    page.evaluate("wagtailJourney.track('video_play', {video: 'intro'}); wagtailJourney.flush()")
    assert wait_for(lambda: Touchpoint.objects.filter(kind="video_play").exists())
    tp = Touchpoint.objects.get(kind="video_play")
    assert tp.properties == {"video": "intro"}
    assert tp.page_id == site_article.pk
    assert tp.session == Touchpoint.objects.filter(kind="page_view").latest("id").session
