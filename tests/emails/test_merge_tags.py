"""Merge tags: only whitelisted fields, one fallback filter, nothing else runs."""

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from wagtail_journey.emails import merge_tags
from wagtail_journey.emails.merge_tags import Tag, parse, render, validate


def test_tag_with_fallback():
    parts = parse('Hello {{ first_name|default:"there" }}!')
    assert parts == ["Hello ", Tag("first_name", "there"), "!"]
    assert render(parts, {"first_name": "Ana"}, escape=False) == "Hello Ana!"
    assert render(parts, {"first_name": ""}, escape=False) == "Hello there!"
    assert render(parts, {}, escape=False) == "Hello there!"


@pytest.mark.parametrize(
    "text",
    [
        "{{first_name}}",
        "{{ first_name|default:'friend' }}",
        "{{ first_name | default : \u201cfriend\u201d }}",
        "{{\u00a0first_name\u00a0}}",
    ],
)
def test_spellings_editors_type(text):
    (tag,) = parse(text)
    assert tag.name == "first_name"


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("Hi {{ password }}", "{{ password }}"),
        ("Hi {{ first_name|upper }}", "upper"),
        ("Hi {{ first_name.__class__ }}", "{{ first_name.__class__ }}"),
        ("{{ settings.SECRET_KEY }}", "{{ settings.SECRET_KEY }}"),
        ("{{ first_name|default }}", "{{ first_name|default }}"),
        ("Hi {{ first_name", "{{ first_name"),
        ('{{ first_name|default:"a"|default:"b" }}', "{{ first_name"),
    ],
)
def test_errors_name_the_tag(text, named):
    with pytest.raises(ValidationError) as exc:
        validate(text)
    assert named in " ".join(exc.value.messages)


def test_template_code_is_literal_text():
    """Django template syntax other than {{ }} is text: nothing is evaluated."""
    text = "{% load static %}{% debug %} {# c #}"
    assert render(parse(text), {}, escape=False) == text


def test_values_are_escaped_in_html_and_raw_in_text():
    parts = parse("Hi {{ first_name }}")
    hostile = {"first_name": '<script>alert("x")</script>'}
    assert render(parts, hostile, escape=True) == (
        "Hi &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"
    )
    assert render(parts, hostile, escape=False) == 'Hi <script>alert("x")</script>'


def test_a_value_is_never_parsed_again():
    parts = parse("Hi {{ first_name }}")
    assert render(parts, {"first_name": "{{ email }}", "email": "x@y.z"}, escape=False) == (
        "Hi {{ email }}"
    )


def test_rich_text_source_with_entities():
    source = "<p>Hi {{ first_name|default:&quot;there&quot; }} &amp; co</p>"
    parts = parse(source, is_html=True)
    assert parts == ["<p>Hi ", Tag("first_name", "there"), " &amp; co</p>"]


def test_rich_text_formatting_inside_a_tag_is_an_error():
    with pytest.raises(ValidationError, match="formatting"):
        validate("<p>{{ <b>first_name</b> }}</p>", is_html=True)


def test_long_fallback_refused():
    with pytest.raises(ValidationError):
        validate('{{ first_name|default:"' + "x" * (merge_tags.MAX_DEFAULT + 1) + '" }}')


@given(st.text(max_size=200))
def test_parser_never_crashes(text):
    """Any input either parses or raises a ValidationError (never another error)."""
    try:
        parts = parse(text)
    except ValidationError:
        return
    assert render(parts, {}, escape=False) is not None


def test_errors_are_translated():
    from django.utils import translation

    with translation.override("fr"), pytest.raises(ValidationError) as exc:
        validate("{{ shoe_size }}")
    assert "Balise de fusion inconnue {{ shoe_size }}" in exc.value.messages[0]
