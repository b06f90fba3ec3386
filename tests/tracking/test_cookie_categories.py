"""Cookie consent by category: the banner's form, the settings page (no JavaScript),
the Python helper and template tag, ConsentRecords for known browsers, and the
default (analytics only) staying as cheap as before."""

from __future__ import annotations

import re

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import timezone

from wagtail_journey.models import ConsentPurpose, ConsentRecord, Contact, Visitor
from wagtail_journey.privacy.consent import has_consent
from wagtail_journey.tracking import cookie_consent

pytestmark = pytest.mark.django_db

SETTINGS_URL = "/journey/cookies/"
ORIGIN = {"HTTP_ORIGIN": "http://testserver", "HTTP_REFERER": "http://testserver/article/"}


@pytest.fixture(autouse=True)
def _back_to_english():
    """A French request leaves French active in the thread (LocaleMiddleware): reset it."""
    yield
    from django.utils import translation

    translation.activate("en")


def render(source: str, **context) -> str:
    return Template("{% load journey_tracking %}" + source).render(Context(context))


@pytest.fixture
def categories(settings):
    for key, name in [
        ("cookies-analytics", "Audience measurement"),
        ("cookies-functionality", "Remember my settings"),
        ("cookies-marketing", "Advertising partners"),
    ]:
        ConsentPurpose.objects.create(name=name, key=key, text=f"<p>{name}: what it does.</p>")
    settings.WAGTAIL_JOURNEY = {
        **settings.WAGTAIL_JOURNEY,
        "CONSENT_CATEGORIES": {
            "analytics": "cookies-analytics",
            "functionality": "cookies-functionality",
            "marketing": "cookies-marketing",
        },
    }
    cookie_consent.clear_cache()
    yield
    cookie_consent.clear_cache()


def test_the_default_banner_asks_about_analytics_only_without_a_query(
    django_assert_num_queries,
):
    request = RequestFactory().get("/")
    with django_assert_num_queries(0):
        html = render("{% journey_consent_banner %}{% journey_consent_link %}", request=request)
    assert "<form" not in html and 'data-journey-consent="1"' in html
    assert cookie_consent.categories() == ("necessary", "analytics")


def test_the_category_banner_is_a_form_naming_each_purpose(categories):
    html = render("{% journey_consent_banner %}", request=RequestFactory().get("/"))
    assert '<form method="post" action="/journey/cookies/"' in html
    boxes = re.findall(r'name="category" value="([a-z]+)"', html)
    assert boxes == ["analytics", "functionality", "marketing"]
    assert "Advertising partners" in html and "Advertising partners: what it does." in html
    assert 'data-categories-cookie="wj_cc"' in html
    labels = re.findall(r'name="choice" value="(\w+)">([^<]+)<', html)
    assert labels == [("all", "Accept all"), ("none", "Refuse all"), ("some", "Save my choices")]


def test_the_category_banner_reads_the_purposes_once_per_process(
    categories, django_assert_num_queries
):
    request = RequestFactory().get("/")
    render("{% journey_consent_banner %}", request=request)
    with django_assert_num_queries(0):
        render("{% journey_consent_banner %}", request=request)


def test_scripts_and_python_follow_each_category(categories):
    html = render('{% journey_consented_script "marketing" src="https://ads.example/t.js" %}')
    assert 'data-journey-category="marketing"' in html and 'type="text/plain"' in html
    request = RequestFactory().get("/")
    assert not cookie_consent.cookie_consent_granted(request, "marketing")
    request.COOKIES["wj_cc"] = "functionality.marketing"
    assert cookie_consent.cookie_consent_granted(request, "marketing")
    assert cookie_consent.cookie_consent_granted(request, "functionality")
    assert not cookie_consent.cookie_consent_granted(request, "analytics")
    request.COOKIES["wj_cc"] = "-"
    assert not cookie_consent.cookie_consent_granted(request, "marketing")


def test_a_choice_posted_by_the_form_sets_the_cookies_and_goes_back(client, categories):
    response = client.post(
        SETTINGS_URL, {"choice": "some", "category": ["functionality"]}, **ORIGIN
    )
    assert response.status_code == 303
    assert response["Location"] == "http://testserver/article/"
    assert response.cookies["wj_cc"].value == "functionality"
    assert response.cookies["wj_c"].value == "0"
    page = client.get(SETTINGS_URL).content.decode()
    assert 'value="functionality" id="wj-cat-functionality" checked' in page
    assert 'value="marketing" id="wj-cat-marketing">' in page
    response = client.post(SETTINGS_URL, {"choice": "all"}, **ORIGIN)
    assert response.cookies["wj_cc"].value == "functionality.marketing"
    assert response.cookies["wj_c"].value == "1"
    assert Visitor.objects.filter(consented_at__isnull=False).count() == 1


@pytest.mark.parametrize("origin", [None, "https://evil.example"])
def test_a_post_from_another_site_or_without_origin_changes_nothing(client, categories, origin):
    headers = {"HTTP_ORIGIN": origin} if origin else {}
    response = client.post(SETTINGS_URL, {"choice": "all"}, **headers)
    assert response.status_code == 403
    assert "wj_c" not in response.cookies and "wj_cc" not in response.cookies
    assert not Visitor.objects.exists()


def test_a_foreign_next_url_is_ignored(client, categories):
    response = client.post(
        SETTINGS_URL,
        {"choice": "none", "next": "https://evil.example/"},
        HTTP_ORIGIN="http://testserver",
    )
    assert response["Location"] == "/"


def test_the_settings_page_works_in_the_default_configuration(client):
    page = client.get(SETTINGS_URL).content.decode()
    assert 'name="category" value="analytics"' in page
    response = client.post(SETTINGS_URL, {"choice": "some", "category": ["analytics"]}, **ORIGIN)
    assert response.cookies["wj_c"].value == "1"
    assert response.cookies["wj_cc"].value == "-"


def test_a_known_browsers_choices_are_consent_records_with_text_and_version(client, categories):
    ana = Contact.objects.create(email="ana@example.com")
    visitor = Visitor.objects.create(contact=ana, consented_at=timezone.now())
    client.cookies["wj_vid"] = visitor.key
    client.post(SETTINGS_URL, {"choice": "some", "category": ["analytics", "marketing"]}, **ORIGIN)
    assert has_consent(ana, "cookies-analytics") and has_consent(ana, "cookies-marketing")
    assert not has_consent(ana, "cookies-functionality")
    rec = ConsentRecord.objects.get(contact=ana, purpose__key="cookies-marketing")
    assert rec.method == "cookie_banner" and rec.action == "granted"
    assert rec.text_shown == "<p>Advertising partners: what it does.</p>"
    assert rec.version.number == 1 and rec.source_url == "http://testserver/article/"
    # Refusing everything later withdraws what was granted (the cookie goes, the record stays).
    client.post(SETTINGS_URL, {"choice": "none"}, **ORIGIN)
    assert not has_consent(ana, "cookies-analytics") and not has_consent(ana, "cookies-marketing")
    assert ConsentRecord.objects.filter(contact=ana, action="withdrawn").count() == 2


def test_an_anonymous_browser_keeps_its_choice_in_its_cookies_only(client, categories):
    client.post(SETTINGS_URL, {"choice": "all"}, **ORIGIN)
    assert not ConsentRecord.objects.exists()


def test_the_settings_page_is_translated(client, categories):
    page = client.get(SETTINGS_URL, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Paramètres des cookies" in page and "Strictement nécessaires" in page


def test_the_banner_asks_again_when_categories_are_new_to_a_browser(client, categories):
    from wagtail_journey.templatetags.journey_tracking import journey_script

    request = RequestFactory().get("/")
    request.COOKIES["wj_c"] = "0"
    assert 'data-ask="1"' in journey_script({"request": request})
    request.COOKIES["wj_cc"] = "-"
    assert 'data-ask="0"' in journey_script({"request": request})
