"""Builders for landing pages with consented forms, shared by form tests."""

from __future__ import annotations

import re

from wagtail_journey.models import ConsentPurpose, LandingPage

PRIVACY_TEXT = '<p>I accept the <a href="/privacy/">privacy policy</a>.</p>'
MARKETING_TEXT = "<p>Send me marketing emails.</p>"


def make_purposes() -> tuple[ConsentPurpose, ConsentPurpose]:
    privacy = ConsentPurpose.objects.create(
        name="Privacy policy", key="privacy", text=PRIVACY_TEXT, required=True
    )
    marketing = ConsentPurpose.objects.create(
        name="Marketing emails",
        key="marketing",
        text=MARKETING_TEXT,
        double_opt_in=True,
        is_marketing=True,
    )
    return privacy, marketing


def form_block(purposes, **overrides) -> dict:
    value = {
        "name": "Newsletter signup",
        "heading": "Join us",
        "fields": [
            {"label": "Email", "field_type": "email", "required": True, "maps_to": "email"},
            {"label": "First name", "field_type": "singleline", "maps_to": "first_name"},
            {"label": "Message", "field_type": "multiline"},
        ],
        "consents": [p.pk for p in purposes],
        "submit_label": "Sign up",
        "success_message": "<p>Thanks for signing up!</p>",
        "tags": "newsletter, webinar",
        "journey_stage": "consideration",
    }
    value.update(overrides)
    return {"type": "form", "value": value}


def make_landing_page(parent, purposes, *, slug="signup", blocks=None) -> LandingPage:
    body = (
        blocks
        if blocks is not None
        else [
            {"type": "hero", "value": {"heading": "Grow with consent", "text": "Hello"}},
            form_block(purposes),
        ]
    )
    page = LandingPage(title="Sign up", slug=slug, body=body)
    parent.add_child(instance=page)
    page.save_revision().publish()
    page.refresh_from_db()
    return page


def form_id(page: LandingPage, index: int = 0) -> str:
    return [child.id for child in page.body if child.block_type == "form"][index]


def hidden_values(html: str, block_id: str) -> dict[str, str]:
    """The hidden machine fields of the rendered form with ``block_id``."""
    start = html.index(f'id="form-{block_id}"')
    chunk = html[start:]
    values = {}
    for name in ("wj_form", "wj_ts", "csrfmiddlewaretoken"):
        match = re.search(rf'name="{name}" value="([^"]*)"', chunk)
        if match:
            values[name] = match.group(1)
    return values


def submit_at_once(page: LandingPage, data: dict, count: int) -> list[int]:
    """Post the page's first form ``count`` times at the same moment, each from its
    own client (and client IP), as separate browsers would; returns the statuses.

    Each client renders the form first (its token and CSRF cookie), then all post
    together (tests.threads.run_in_threads). Raises if a thread raised.
    """
    import threading

    from django.test import Client

    from tests.threads import run_in_threads

    block = form_id(page)
    prepared = []
    for i in range(count):
        client = Client(REMOTE_ADDR=f"198.51.100.{i + 1}")
        html = client.get(page.url).content.decode()
        prepared.append((client, {**hidden_values(html, block), "wj_form": block, **data}))
    lock = threading.Lock()
    statuses: list[int] = []

    def submit() -> None:
        with lock:
            client, payload = prepared.pop()
        status = client.post(page.url, payload).status_code
        with lock:
            statuses.append(status)

    errors = run_in_threads(submit, count)
    if errors:
        raise errors[0]
    return statuses
