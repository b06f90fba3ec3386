"""render_email: responsive HTML from MJML once per revision, values per contact."""

import html
import re

import pytest
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.emails.helpers import make_template
from wagtail_journey.emails import rendering
from wagtail_journey.emails.rendering import (
    NotPublished,
    personalisation_context,
    render_email,
)
from wagtail_journey.models import Contact

pytestmark = pytest.mark.django_db

HREF = re.compile(r'href="([^"]*)"')


@pytest.fixture(autouse=True)
def _empty_cache():
    rendering.clear_cache()
    yield
    rendering.clear_cache()


def test_personalised_parts():
    template = make_template(
        reply_to="help@shop.example", from_name="Shop", from_email="news@shop.example"
    )
    email = render_email(
        template, {"first_name": "Ana", "unsubscribe_url": "https://x.example/u/1"}
    )
    assert email.subject == "Welcome, Ana"
    assert email.preheader == "Your first steps"
    assert email.from_email == "Shop <news@shop.example>"
    assert email.reply_to == ["help@shop.example"]
    assert email.revision_id == template.live_revision_id
    assert email.html.lower().startswith("<!doctype html>")
    assert "Hello Ana" in email.html and "Hello Ana" in email.text
    # Fallbacks where the contact has no value.
    assert "Thanks for joining, friend." in email.text
    # Responsive: a 600px body that becomes full width on phones.
    assert "max-width:600px" in email.html and "@media only screen" in email.html
    # The unsubscribe link of a marketing email, in both parts.
    assert 'href="https://x.example/u/1"' in email.html
    assert "Unsubscribe: https://x.example/u/1" in email.text
    assert "Acme Ltd" in email.text and "Lisbon" in email.html


def test_contact_values_are_escaped_in_html_raw_in_text_and_one_line_in_subject():
    template = make_template()
    hostile = {
        "first_name": '<img src=x onerror="alert(1)">\r\nBcc: victim@x.org',
        "full_name": "A & B",
    }
    email = render_email(template, hostile)
    assert "<img src=x" not in email.html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in email.html
    assert '<img src=x onerror="alert(1)">' in email.text
    assert "A &amp; B" in email.html and "A & B" in email.text
    assert "\n" not in email.subject and "\r" not in email.subject
    assert email.subject == 'Welcome, <img src=x onerror="alert(1)"> Bcc: victim@x.org'


def test_editor_text_cannot_inject_markup_or_template_code():
    body = [
        {
            "type": "heading",
            "value": {"text": "<script>x()</script> {% debug %}", "size": "h2", "align": "left"},
        },
        {
            "type": "button",
            "value": {"label": '"><b>', "url": "https://shop.example/", "align": "left"},
        },
    ]
    email = render_email(make_template(body=body), {})
    assert "<script>x()" not in email.html
    assert "&lt;script&gt;x()&lt;/script&gt; {% debug %}" in email.html
    assert '"><b>' not in email.html
    assert "<script>x()</script> {% debug %}" in email.text


def test_mjml_runs_once_per_revision(monkeypatch):
    import mjml

    calls = []
    real = mjml.mjml2html
    monkeypatch.setattr(mjml, "mjml2html", lambda *a, **k: calls.append(1) or real(*a, **k))
    template = make_template()
    names = [f"Person {i}" for i in range(50)]
    emails = [render_email(template, {"first_name": n}) for n in names]
    assert len(calls) == 1
    assert all(f"Hello {n}" in e.html for n, e in zip(names, emails, strict=True))
    # A newly published revision is compiled once more; the old one stays as it was.
    old = template.live_revision
    template.subject = "New subject"
    template.save_revision().publish()
    template.refresh_from_db()
    assert render_email(template, {}).subject == "New subject"
    assert render_email(old, {}).subject == "Welcome, there"
    assert len(calls) == 2


def test_every_link_is_wrapped_when_tracking():
    template = make_template()
    seen = []

    def wrap(url):
        seen.append(url)
        return "https://site.example/journey/c/" + str(len(seen))

    email = render_email(
        template,
        {
            "unsubscribe_url": "https://site.example/u/tok",
            "preferences_url": "https://site.example/p/tok",
        },
        wrap_link=wrap,
    )
    assert sorted(seen) == [
        "https://shop.example/guide?a=1&b=2",
        "https://shop.example/mug",
        "https://shop.example/sale",
    ]
    hrefs = set(HREF.findall(email.html))
    assert hrefs == {
        "https://site.example/journey/c/1",
        "https://site.example/journey/c/2",
        "https://site.example/journey/c/3",
        "https://site.example/u/tok",  # unsubscribe: never wrapped
        "https://site.example/p/tok",  # nor the preference centre
    }
    assert "shop.example" not in email.text


def test_no_wrapping_without_click_tracking():
    template = make_template(track_clicks=False)
    email = render_email(template, {}, wrap_link=lambda url: pytest.fail("wrapped"))
    assert 'href="https://shop.example/guide?a=1&amp;b=2"' in email.html


@override_settings(WAGTAIL_JOURNEY={"EMAIL_POSTAL_ADDRESS": "Acme, 2 Rue X, Paris"})
def test_marketing_email_without_footer_gets_address_and_unsubscribe():
    body = [{"type": "paragraph", "value": "<p>Hi</p>"}]
    email = render_email(make_template(body=body), {"unsubscribe_url": "https://s.example/u"})
    assert "Acme, 2 Rue X, Paris" in email.text
    assert "Unsubscribe: https://s.example/u" in email.text


def test_transactional_email_has_no_unsubscribe_link():
    body = [{"type": "paragraph", "value": "<p>Your receipt</p>"}]
    email = render_email(make_template(body=body, transactional=True), {})
    assert "Unsubscribe" not in email.text


def test_unpublished_template_is_refused():
    with pytest.raises(NotPublished):
        render_email(make_template(publish=False), {})


def test_relative_links_become_absolute_from_the_configured_root(home_page):
    body = [
        {"type": "paragraph", "value": f'<p><a linktype="page" id="{home_page.pk}">Home</a></p>'}
    ]
    with override_settings(WAGTAILADMIN_BASE_URL="https://www.shop.example"):
        email = render_email(make_template(body=body), {})
    assert 'href="https://www.shop.example/"' in email.html


def test_personalisation_context_is_small():
    contact = Contact.objects.create(email="ana@example.com", first_name="Ana")
    assert personalisation_context(contact) == {
        "first_name": "Ana",
        "full_name": "Ana",
        "email": "ana@example.com",
    }


def test_demo_templates_render_and_load_twice_safely():
    from django.core.management import call_command

    from wagtail_journey.models import EmailTemplate

    call_command("load_demo")
    call_command("load_demo")
    assert sorted(EmailTemplate.objects.values_list("name", flat=True)) == [
        "Monthly newsletter",
        "Order receipt",
        "Welcome",
    ]
    for template in EmailTemplate.objects.all():
        email = render_email(template, {"first_name": "Ana"}, wrap_link=lambda u: u)
        assert email.text.strip() and "<mj-" not in email.html
    welcome = EmailTemplate.objects.get(name="Welcome")
    assert render_email(welcome, {"first_name": "Ana"}).subject == "Welcome, Ana"


def test_french_template_footer():
    body = [{"type": "paragraph", "value": "<p>Bonjour {{ first_name }}</p>"}]
    email = render_email(make_template(body=body, language="fr"), {"first_name": "Zoé"})
    assert "Bonjour Zoé" in email.text
    assert "Se désabonner" in email.text and 'lang="fr"' in email.html


def test_only_web_mail_and_phone_links_survive():
    body = [
        {
            "type": "paragraph",
            "value": '<p><a href="javascript:alert(1)">x</a> <a href="mailto:help@shop.example">'
            'mail</a> <a href="tel:+351210000000">call</a> <a href="data:text/html,hi">d</a></p>',
        }
    ]
    seen = []
    email = render_email(make_template(body=body), {}, wrap_link=seen.append)
    assert "javascript:" not in email.html and "data:text" not in email.html
    assert 'href="mailto:help@shop.example"' in email.html
    assert 'href="tel:+351210000000"' in email.html
    assert seen == []  # nothing to track


def test_images_are_absolute_renditions(tmp_path):
    from wagtail.images.models import Image
    from wagtail.images.tests.utils import get_test_image_file

    image = Image.objects.create(title="Blue mug", file=get_test_image_file())
    body = [
        {
            "type": "image",
            "value": {"image": image.pk, "alt": "", "link": "https://shop.example/mug"},
        }
    ]
    with override_settings(WAGTAILADMIN_BASE_URL="https://www.shop.example"):
        email = render_email(
            make_template(body=body), {}, wrap_link=lambda u: "https://t.example/1"
        )
    src = re.search(r'<img[^>]*src="([^"]+)"', email.html)[1]
    assert src.startswith("https://www.shop.example/") and "width-1200" in src
    assert 'alt="Blue mug"' in email.html  # the image's title when no alt text is given
    assert '<a href="https://t.example/1"' in email.html
    assert "Blue mug: https://t.example/1" in email.text


def test_pasted_control_characters_do_not_break_the_layout():
    body = [
        {"type": "heading", "value": {"text": "Hi\x0bthere\x1f", "size": "h1", "align": "left"}}
    ]
    email = render_email(make_template(body=body), {})
    assert "Hithere" in email.html


def test_broken_imported_rich_text_is_a_clear_error_and_previews_say_so(admin_client):
    from django.urls import reverse

    from wagtail_journey.emails.rendering import RenderError

    body = [{"type": "paragraph", "value": "<p>a</b></p>"}]
    template = make_template(body=body)
    with pytest.raises(RenderError, match="could not be laid out"):
        render_email(template, {})
    url = "wagtailsnippets_wagtail_journey_emailtemplate"
    page = admin_client.get(reverse(f"{url}:preview_test", args=[template.pk]))
    assert page.status_code == 200 and "could not be laid out" in page.content.decode()
    frame = admin_client.get(reverse(f"{url}:preview_frame", args=[template.pk]))
    assert frame.status_code == 200 and "could not be laid out" in frame.content.decode()


@pytest.fixture
def compiled_welcome():
    rendering.clear_cache()
    return rendering.compiled(make_template())


@given(st.text(max_size=80))
@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_contact_value_is_inserted_escaped_and_only_once(compiled_welcome, value):
    email = compiled_welcome.personalise({"first_name": value}, None)
    shown = value or "there"
    assert f"Hello {html.escape(shown)}" in email.html
    assert f"Hello {shown}" in email.text
    assert "\n" not in email.subject and "\r" not in email.subject
