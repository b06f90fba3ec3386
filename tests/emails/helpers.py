"""Email templates for tests, built as an editor would (published revisions)."""

from __future__ import annotations

import json

from wagtail_journey.models import ConsentPurpose, EmailTemplate

BODY = [
    {
        "type": "heading",
        "value": {"text": 'Hello {{ first_name|default:"there" }}', "size": "h1", "align": "left"},
    },
    {
        "type": "paragraph",
        "value": "<p>Thanks for joining, {{ full_name|default:&quot;friend&quot; }}. "
        'Read <a href="https://shop.example/guide?a=1&amp;b=2">the guide</a>.</p>',
    },
    {
        "type": "button",
        "value": {"label": "Shop now", "url": "https://shop.example/sale", "align": "center"},
    },
    {"type": "divider", "value": None},
    {
        "type": "two_columns",
        "value": {
            "left": [{"type": "paragraph", "value": "<p>Left side</p>"}],
            "right": [
                {
                    "type": "card",
                    "value": {
                        "image": None,
                        "title": "Blue mug",
                        "text": "<p>Holds tea.</p>",
                        "price": "12 €",
                        "button_label": "Buy",
                        "button_url": "https://shop.example/mug",
                    },
                }
            ],
        },
    },
    {
        "type": "footer",
        "value": {
            "text": "<p>You subscribed on our site.</p>",
            "address": "Acme Ltd\n1 Main Street\nLisbon",
        },
    },
]


def marketing_purpose() -> ConsentPurpose:
    purpose, _ = ConsentPurpose.objects.get_or_create(
        key="marketing",
        defaults={"name": "Marketing emails", "text": "<p>Send me news</p>", "is_marketing": True},
    )
    return purpose


def make_template(*, publish: bool = True, body=None, **fields) -> EmailTemplate:
    fields.setdefault("name", "Welcome")
    fields.setdefault("subject", 'Welcome, {{ first_name|default:"there" }}')
    fields.setdefault("preheader", "Your first steps")
    if not fields.get("transactional"):
        fields.setdefault("purpose", marketing_purpose())
    template = EmailTemplate(body=json.dumps(BODY if body is None else body), **fields)
    template.full_clean()
    template.save()
    revision = template.save_revision()
    if publish:
        revision.publish()
        template.refresh_from_db()
    return template
