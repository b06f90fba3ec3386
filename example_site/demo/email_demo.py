"""Demo email templates (load_demo): a welcome, a newsletter and a receipt."""

from __future__ import annotations

import json

from wagtail_journey.models import ConsentPurpose, EmailTemplate

FOOTER = {
    "type": "footer",
    "value": {
        "text": "<p>You receive this because you subscribed on the Journey demo site.</p>",
        "address": "Journey Demo Lda.\nRua do Exemplo 1\n1100-001 Lisboa, Portugal",
    },
}


def _welcome(base: str) -> list[dict]:
    return [
        {
            "type": "heading",
            "value": {
                "text": 'Welcome, {{ first_name|default:"friend" }}!',
                "size": "h1",
                "align": "left",
            },
        },
        {
            "type": "paragraph",
            "value": "<p>Thanks for subscribing. Every month we send one email with what we "
            "learnt about consent-first marketing: no bought lists, no dark patterns.</p>"
            "<p>To start, read <b>why consent matters</b>:</p>",
        },
        {
            "type": "button",
            "value": {
                "label": "Read the article",
                "url": f"{base}/why-consent-matters/",
                "align": "left",
            },
        },
        FOOTER,
    ]


def _newsletter(base: str) -> list[dict]:
    card = {
        "image": None,
        "title": "Team plan",
        "text": "<p>Everything in Starter, for five editors.</p>",
        "price": "€49 / month, first month free",
        "button_label": "See pricing",
        "button_url": f"{base}/pricing/",
    }
    return [
        {
            "type": "heading",
            "value": {"text": "The Journey monthly", "size": "h1", "align": "center"},
        },
        {
            "type": "paragraph",
            "value": "<p>Hello {{ first_name|default:&quot;there&quot; }}, "
            "here is what is new.</p>",
        },
        {"type": "divider", "value": None},
        {
            "type": "two_columns",
            "value": {
                "left": [
                    {
                        "type": "heading",
                        "value": {"text": "Customer stories", "size": "h3", "align": "left"},
                    },
                    {
                        "type": "paragraph",
                        "value": "<p>How a small bakery doubled its newsletter sign-ups "
                        f'with one honest checkbox. <a href="{base}/customer-stories/">'
                        "Read the story</a>.</p>",
                    },
                ],
                "right": [{"type": "card", "value": card}],
            },
        },
        FOOTER,
    ]


def _receipt() -> list[dict]:
    return [
        {
            "type": "heading",
            "value": {"text": "Thank you for your order", "size": "h2", "align": "left"},
        },
        {
            "type": "paragraph",
            "value": "<p>Hello {{ full_name|default:&quot;there&quot; }}, we have received your "
            "order and will send it within two working days.</p>",
        },
    ]


def load_email_templates(base_url: str) -> None:
    """Create the demo templates once, published (idempotent)."""
    base = base_url.rstrip("/")
    marketing = ConsentPurpose.objects.filter(key="marketing").first()
    specs = [
        (
            "Welcome",
            'Welcome, {{ first_name|default:"friend" }}',
            "Your first read",
            _welcome(base),
        ),
        (
            "Monthly newsletter",
            "The Journey monthly",
            "Stories, and a free month",
            _newsletter(base),
        ),
        ("Order receipt", "Your order", "", _receipt()),
    ]
    for name, subject, preheader, body in specs:
        if EmailTemplate.objects.filter(name=name).exists():
            continue
        transactional = name == "Order receipt"
        template = EmailTemplate.objects.create(
            name=name,
            language="en",
            subject=subject,
            preheader=preheader,
            from_name="Journey demo",
            purpose=None if transactional else marketing,
            transactional=transactional or marketing is None,
            body=json.dumps(body),
        )
        template.save_revision().publish()
