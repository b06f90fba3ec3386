"""The template tags behind the consent banner and the stylesheets (issue 9, items 22 and 25).

The browser tests (tests/e2e/test_consent_banner.py, test_landing_layout.py) show them at
work; these pin what a site's template gets from each tag.
"""

import re

import pytest
from django.contrib.staticfiles import finders
from django.template import Context, Template, TemplateSyntaxError
from django.test import RequestFactory, override_settings
from django.utils import translation

pytestmark = pytest.mark.django_db


def render(source: str, **context) -> str:
    return Template("{% load journey_tracking %}" + source).render(Context(context))


def test_journey_styles_links_the_blocks_and_banner_stylesheets_that_exist():
    html = render("{% journey_styles %}")
    hrefs = re.findall(r'<link rel="stylesheet" href="([^"]+)">', html)
    assert hrefs == [
        "/static/wagtail_journey/journey.css",
        "/static/wagtail_journey/journey-consent.css",
    ]
    for href in hrefs:
        assert finders.find(href.removeprefix("/static/"))
    assert re.findall(r'href="([^"]+)"', render('{% journey_styles "consent" %}')) == [hrefs[1]]
    assert re.findall(r'href="([^"]+)"', render('{% journey_styles "blocks" %}')) == [hrefs[0]]
    with pytest.raises(TemplateSyntaxError, match="journey_styles takes"):
        render('{% journey_styles "everything" %}')


def test_banner_has_two_equal_choices_and_no_inline_script_or_style():
    request = RequestFactory().get("/")
    html = render("{% journey_consent_banner %}", request=request)
    buttons = re.findall(r"<button ([^>]*)>([^<]*)</button>", html)
    assert [label for _attrs, label in buttons] == ["Accept analytics", "Refuse analytics"]
    # The same class, so the same look: refusing is as prominent as accepting.
    assert {re.search(r'class="([^"]+)"', attrs).group(1) for attrs, _ in buttons} == {
        "wj-consent__button"
    }
    assert 'aria-labelledby="wj-consent-title"' in html and " hidden " in html
    # Static files only: a strict Content-Security-Policy lets it run.
    assert re.findall(r"<script[^>]*>", html) == [
        '<script src="/static/wagtail_journey/journey-consent.js" defer>'
    ]
    assert "<style" not in html and "style=" not in html and "onclick" not in html
    assert finders.find("wagtail_journey/journey-consent.js")


@override_settings(WAGTAIL_JOURNEY={"CONSENT_COOKIE_NAME": "site_consent"})
def test_banner_tells_its_script_the_consent_cookie_name():
    html = render("{% journey_consent_banner %}", request=RequestFactory().get("/"))
    assert 'data-cookie="site_consent"' in html


@override_settings(WAGTAIL_JOURNEY={"TRACKING_ENABLED": False})
def test_no_banner_no_banner_script_and_no_settings_link_with_tracking_off():
    html = render(
        "{% journey_consent_banner %}{% journey_consent_link %}", request=RequestFactory().get("/")
    )
    assert "data-journey-banner" not in html and "<script" not in html
    assert "data-journey-consent-open" not in html


def test_reopen_link_leads_to_the_cookie_settings_page_without_javascript():
    html = render("{% journey_consent_link %}")
    assert html == (
        '<a href="/journey/cookies/" class="wj-consent-link" data-journey-consent-open>'
        "Cookie settings</a>\n"
    )
    assert ">Privacy choices</a>" in render('{% journey_consent_link "Privacy choices" %}')
    assert ">&lt;b&gt;</a>" in render("{% journey_consent_link label %}", label="<b>")
    with translation.override("fr"):
        assert ">Paramètres des cookies</a>" in render("{% journey_consent_link %}")
        # A site's own label, translated with the site's catalogue (as the docs show).
        assert ">Annuler</a>" in render('{% journey_consent_link _("Cancel") %}')
    with translation.override("pt"):
        assert ">Definições de cookies</a>" in render("{% journey_consent_link %}")


def test_consented_script_renders_inert_and_necessary_ones_load_at_once():
    url = "https://cdn.example/a.js?x=1&y=2"
    html = render('{% journey_consented_script "analytics" src=url %}', url=url)
    assert html == (
        '<script type="text/plain" data-journey-category="analytics" '
        'data-src="https://cdn.example/a.js?x=1&amp;y=2"></script>\n'
    )
    html = render('{% journey_consented_script "necessary" src="/static/app.js" %}')
    assert html == '<script src="/static/app.js" defer></script>\n'
    with pytest.raises(TemplateSyntaxError, match="Unknown consent category 'ads'"):
        render('{% journey_consented_script "ads" src="/x.js" %}')


@pytest.mark.parametrize(("cookie", "granted"), [(None, False), ("0", False), ("1", True)])
def test_cookie_consent_granted_reads_the_visitors_choice(cookie, granted):
    from wagtail_journey.tracking.cookie_consent import cookie_consent_granted

    request = RequestFactory().get("/")
    if cookie is not None:
        request.COOKIES["wj_c"] = cookie
    assert cookie_consent_granted(request, "analytics") is granted
    assert cookie_consent_granted(request, "necessary") is True
    with pytest.raises(ValueError, match="Unknown consent category"):
        cookie_consent_granted(request, "marketing")
