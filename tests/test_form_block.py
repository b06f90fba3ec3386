"""The form block as editors build it and as it renders: found by the browser tests."""

import re

import pytest
from django.template.loader import render_to_string

from tests.forms_helpers import form_block, make_landing_page, make_purposes
from wagtail_journey.blocks import FormBlock
from wagtail_journey.forms import build_form, inline_html
from wagtail_journey.models import ConsentPurpose

pytestmark = pytest.mark.django_db


def test_a_new_form_has_no_empty_consent_chooser_and_saves_without_consents():
    block = FormBlock()
    assert list(block.get_default()["consents"]) == []
    assert block.child_blocks["consents"].child_block.label == "Consent purpose"
    value = block.to_python(form_block([], consents=[])["value"])
    cleaned = block.clean(value)  # no "This field is required." on an empty chooser
    assert list(cleaned["consents"]) == []


def test_consent_label_is_phrasing_content_next_to_its_checkbox(client, home_page):
    privacy, marketing = make_purposes()
    marketing.text = "<p>Send me news.</p><p>Unsubscribe <b>any time</b>.</p>"
    marketing.save()
    page = make_landing_page(home_page, [privacy, marketing])
    html = client.get(page.url).content.decode()

    labels = re.findall(r'<label for="wj-[^"]+-consent_\w+">(.*?)</label>', html, re.S)
    assert len(labels) == 2
    assert not any("<p" in label for label in labels)  # <label> holds no paragraphs
    assert 'I accept the <a href="/privacy/">privacy policy</a>.' in labels[0]
    assert labels[1].startswith("Send me news.<br>Unsubscribe <b>any time</b>.")
    # The proof keeps the text exactly as written.
    assert ConsentPurpose.objects.get(key="marketing").versions.first().text.startswith("<p>")


def test_inline_html_keeps_inline_markup_and_attributes():
    html = '<p data-block-key="a1">One <a href="/x/">link</a></p>\n<p data-block-key="b2">Two</p>'
    assert inline_html(html) == 'One <a href="/x/">link</a><br>Two'
    assert inline_html("<pre>kept</pre>") == "<pre>kept</pre>"


def test_error_and_help_ids_are_unique_and_referenced(client, home_page):
    privacy, _ = make_purposes()
    fields = [
        {"label": "Email", "field_type": "email", "required": True, "maps_to": "email"},
        {"label": "Size", "field_type": "radio", "choices": "S\nM", "required": True},
        {"label": "Plan", "field_type": "radio", "choices": "A\nB", "help_text": "Pick one"},
    ]
    page = make_landing_page(
        home_page, [privacy], blocks=[form_block([privacy], fields=fields, consents=[privacy.pk])]
    )
    html = client.get(page.url).content.decode()
    assert 'aria-describedby=""' not in html
    assert 'id="_helptext"' not in html and 'id="_error"' not in html

    value = next(child for child in page.body if child.block_type == "form")
    form = build_form(value.value, value.id, data={"email": "a@example.com"})
    assert not form.is_valid()
    prefix = f"wj-{value.id[:8]}"
    for name in ("size", "consent_privacy"):
        rendered = render_to_string("wagtail_journey/blocks/form_field.html", {"field": form[name]})
        assert f'id="{prefix}-{name}_error"' in rendered
        assert f'aria-describedby="{prefix}-{name}_error"' in rendered
    rendered = render_to_string("wagtail_journey/blocks/form_field.html", {"field": form["plan"]})
    assert f'id="{prefix}-plan_helptext"' in rendered
    assert f'aria-describedby="{prefix}-plan_helptext"' in rendered
