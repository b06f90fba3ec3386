"""Presets: one click creates an editable draft of a common flow.

Each preset creates its emails as draft email templates in every language of
the site among English, French and Portuguese ("Welcome (fr)" ...), and a draft
flow whose email steps use the templates of the chosen language. Nothing is
published: the editor reviews, publishes the emails, then publishes the flow.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from wagtail_journey.flows.preset_emails import EMAILS

LANGUAGES = ("en", "fr", "pt")


class PresetError(Exception):
    """The preset cannot be created here (no marketing consent purpose ...): shown to editors."""


@dataclass(frozen=True)
class Preset:
    key: str
    title: Any
    description: Any
    emails: tuple[str, ...]
    build: Callable[[dict[str, int], dict], dict]


def _site_languages() -> list[str]:
    site = {code.split("-")[0] for code, _name in settings.LANGUAGES}
    return [code for code in LANGUAGES if code in site] or ["en"]


def _root() -> str:
    from wagtail_journey.links import site_root_url

    try:
        return site_root_url().rstrip("/") + "/"
    except Exception:  # no site configured yet: the editor changes the link
        return "https://www.example.com/"


def _body(heading: str, paragraph: str, button: str) -> list[dict]:
    from django.utils.html import escape

    address = getattr(settings, "WAGTAIL_JOURNEY", {}).get("EMAIL_POSTAL_ADDRESS") or ""
    body = [
        {"type": "heading", "value": {"text": heading, "size": "h1", "align": "left"}},
        {"type": "paragraph", "value": f"<p>{escape(paragraph)}</p>"},
        {"type": "button", "value": {"label": button, "url": _root(), "align": "center"}},
    ]
    if address:
        body.append({"type": "footer", "value": {"text": "", "address": address}})
    return body


def _templates(keys: tuple[str, ...], title: str, purpose: Any) -> dict[str, dict[str, int]]:
    """Draft templates of each email in each language; returns key -> language -> pk."""
    from wagtail_journey.models import EmailTemplate

    made: dict[str, dict[str, int]] = {}
    for n, key in enumerate(keys, start=1):
        for language in _site_languages():
            subject, heading, paragraph, button = EMAILS[key][language]
            template = EmailTemplate(
                name=f"{title} {n} ({language})"[:100],
                language=language,
                subject=subject,
                purpose=purpose,
                body=json.dumps(_body(heading, paragraph, button)),
                live=False,
            )
            template.save()
            template.save_revision()
            made.setdefault(key, {})[language] = template.pk
    return made


def step(type_: str, **value) -> dict:
    return {"type": type_, "value": value}


def wait(amount: int, unit: str = "days", **window) -> dict:
    return step(
        "wait",
        duration={"amount": amount, "unit": unit},
        weekdays=[str(d) for d in window.get("weekdays", [])],
        start=window.get("start"),
        end=window.get("end"),
    )


def trigger(type_: str, **value) -> list[dict]:
    return [{"type": type_, "value": value}]


def _send(t: dict[str, int]) -> dict:
    return step("send_email", template=t)


# --- the presets -------------------------------------------------------------------


def _welcome(t, ctx):
    return {
        "trigger": trigger(
            "event",
            kind="consent_confirmed",
            filters=[{"key": "purpose", "op": "eq", "value": ctx["purpose_key"]}],
        ),
        "steps": [
            _send(t["welcome"]),
            wait(2, weekdays=[0, 1, 2, 3, 4], start="09:00:00", end="17:00:00"),
            _send(t["welcome_tips"]),
        ],
    }


def _nurture(t, ctx):
    return {
        "trigger": trigger("stage_reached", stage="lead"),
        "steps": [
            _send(t["nurture_guide"]),
            wait(3),
            _send(t["nurture_story"]),
            wait(4),
            step(
                "condition",
                match="all",
                rules=[
                    {
                        "type": "group",
                        "value": {
                            "match": "all",
                            "rules": [
                                {
                                    "type": "score",
                                    "value": {"min": 50, "max": None, "negate": False},
                                }
                            ],
                        },
                    }
                ],
                yes=[step("set_stage", stage="mql")],
                no=[_send(t["nurture_offer"])],
            ),
        ],
        "goals": [{"type": "stage_reached", "value": {"stage": "customer"}}],
    }


def _cart(t, ctx):
    return {
        "trigger": trigger(
            "abandonment",
            kind="cart_updated",
            filters=[],
            unless="order_completed",
            within={"amount": 1, "unit": "hours"},
        ),
        "steps": [_send(t["cart_reminder"]), wait(1), _send(t["cart_last_call"])],
        "goals": [{"type": "event", "value": {"kind": "order_completed", "filters": []}}],
        "reentry": "after_days",
        "reentry_days": 7,
    }


def _browse(t, ctx):
    return {
        "trigger": trigger(
            "abandonment",
            kind="page_view",
            filters=[],
            unless="cart_updated",
            within={"amount": 2, "unit": "hours"},
        ),
        "steps": [_send(t["browse_reminder"])],
        "goals": [{"type": "event", "value": {"kind": "order_completed", "filters": []}}],
        "reentry": "after_days",
        "reentry_days": 14,
    }


def _upsell(t, ctx):
    return {
        "trigger": trigger("event", kind="order_completed", filters=[]),
        "steps": [wait(7), _send(t["upsell"])],
        "reentry": "after_days",
        "reentry_days": 30,
    }


def _referral(t, ctx):
    return {
        "trigger": trigger("score_crossed", threshold=100, direction="up"),
        "steps": [step("add_tag", tag="advocate"), _send(t["referral"])],
    }


def _reactivation(t, ctx):
    return {
        "trigger": trigger("date", source="last_order", days=90),
        "steps": [_send(t["reactivation"]), wait(14)],
        "goals": [{"type": "event", "value": {"kind": "order_completed", "filters": []}}],
        "reentry": "after_days",
        "reentry_days": 90,
    }


def _leads(t, ctx):
    return {
        "trigger": trigger("stage_reached", stage="mql"),
        "steps": [
            step("assign_owner", group=ctx["group"], method="round_robin", notify=True),
            step("add_tag", tag="assigned"),
        ],
        "marketing": False,
    }


PRESETS: dict[str, Preset] = {
    p.key: p
    for p in [
        Preset(
            "welcome",
            _("Welcome"),
            _("Two emails after the marketing consent is confirmed."),
            ("welcome", "welcome_tips"),
            _welcome,
        ),
        Preset(
            "nurture",
            _("Nurture"),
            _("New leads get a guide and a story; engaged ones become MQLs."),
            ("nurture_guide", "nurture_story", "nurture_offer"),
            _nurture,
        ),
        Preset(
            "cart",
            _("Cart abandonment"),
            _("A reminder an hour after a cart without an order, then a last call."),
            ("cart_reminder", "cart_last_call"),
            _cart,
        ),
        Preset(
            "browse",
            _("Browse abandonment"),
            _("A reminder two hours after a visit without a cart."),
            ("browse_reminder",),
            _browse,
        ),
        Preset(
            "upsell",
            _("Upsell and cross-sell"),
            _("A selection a week after an order."),
            ("upsell",),
            _upsell,
        ),
        Preset(
            "referral",
            _("Referral"),
            _("Customers whose score passes 100 are asked to recommend you."),
            ("referral",),
            _referral,
        ),
        Preset(
            "reactivation",
            _("Re-activation"),
            _("Customers without an order for 90 days hear from you."),
            ("reactivation",),
            _reactivation,
        ),
        Preset(
            "leads",
            _("Lead assignment"),
            _("A new MQL is assigned to a salesperson in turn, who is notified."),
            (),
            _leads,
        ),
    ]
}


def create_from_preset(key: str, *, language: str = "") -> Any:
    """Create the preset's draft templates and draft flow; returns the flow."""
    from django.contrib.auth.models import Group
    from django.db import transaction

    from wagtail_journey.models import ConsentPurpose, Flow

    preset = PRESETS.get(key)
    if preset is None:
        raise PresetError(_("Unknown preset."))
    purpose = ConsentPurpose.objects.filter(is_marketing=True).order_by("pk").first()
    if preset.emails and purpose is None:
        raise PresetError(_("Create a marketing consent purpose first: the emails need one."))
    group = Group.objects.order_by("pk").filter(name__icontains="sales").first() or (
        Group.objects.order_by("pk").first()
    )
    if key == "leads" and group is None:
        raise PresetError(_("Create a group of salespeople first."))
    languages = _site_languages()
    language = language if language in languages else languages[0]
    with transaction.atomic():
        templates = _templates(preset.emails, str(preset.title), purpose)
        chosen = {k: v[language] for k, v in templates.items()}
        spec = preset.build(
            chosen,
            {
                "purpose_key": purpose.key if purpose else "",
                "group": str(group.pk) if group else "",
            },
        )
        flow = Flow(
            name=str(preset.title),
            description=str(preset.description),
            trigger=spec["trigger"],
            steps=spec["steps"],
            goals=spec.get("goals", []),
            reentry=spec.get("reentry", "once"),
            reentry_days=spec.get("reentry_days", 30),
            marketing=spec.get("marketing", True),
            live=False,
        )
        flow.save()
        flow.save_revision()
    return flow
