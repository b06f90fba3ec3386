"""System checks: misconfiguration is reported at startup with a hint, not at 3 a.m.

Run by ``manage.py check`` (and every ``runserver``/``migrate``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from wagtail_journey.conf import CONSENT_MODES, IP_PROOF_MODES, journey_settings

REQUIRED_APPS = {
    "django_q": "django-q2 runs the journey's background work (email, rebuilds, purges).",
    "anymail": "django-anymail sends email and receives your provider's webhooks.",
    "taggit": "django-taggit stores contact tags.",
    "wagtail.snippets": "Consent purposes and email templates are snippets.",
}


@register(Tags.compatibility)
def check_installed_apps(app_configs: Any = None, **kwargs: Any) -> list:
    errors = []
    for app, why in REQUIRED_APPS.items():
        if app not in settings.INSTALLED_APPS:
            errors.append(
                Error(
                    f"'{app}' must be in INSTALLED_APPS to use wagtail_journey.",
                    hint=why,
                    id="wagtail_journey.E001",
                )
            )
    return errors


@register(Tags.compatibility)
def check_q_cluster(app_configs: Any = None, **kwargs: Any) -> list:
    q_cluster = getattr(settings, "Q_CLUSTER", None)
    if not q_cluster:
        return [
            Error(
                "Q_CLUSTER is not configured.",
                hint=(
                    "Add a Q_CLUSTER dict, e.g. {'name': 'journey', 'orm': 'default'} "
                    "(see docs/installation.md), and run `manage.py qcluster`."
                ),
                id="wagtail_journey.E002",
            )
        ]
    errors = []
    engine = settings.DATABASES.get(q_cluster.get("orm", ""), {}).get("ENGINE", "")
    if "sqlite" in engine and int(q_cluster.get("workers", 1)) > 1:
        errors.append(
            Warning(
                "django-q2's ORM broker on SQLite with more than one worker fails with "
                "'database is locked' under load.",
                hint="Use 'workers': 1 on SQLite, or PostgreSQL/Redis in production.",
                id="wagtail_journey.W002",
            )
        )
    return errors


@register(Tags.compatibility)
def check_journey_settings(app_configs: Any = None, **kwargs: Any) -> list:
    errors = []
    mode = journey_settings.TRACKING_CONSENT_MODE
    if mode not in CONSENT_MODES:
        errors.append(
            Error(
                f"WAGTAIL_JOURNEY['TRACKING_CONSENT_MODE'] is {mode!r}.",
                hint=f"Use one of: {', '.join(CONSENT_MODES)}.",
                id="wagtail_journey.E003",
            )
        )
    proof = journey_settings.CONSENT_IP_PROOF
    if proof not in IP_PROOF_MODES:
        errors.append(
            Error(
                f"WAGTAIL_JOURNEY['CONSENT_IP_PROOF'] is {proof!r}.",
                hint=f"Use one of: {', '.join(IP_PROOF_MODES)}.",
                id="wagtail_journey.E004",
            )
        )
    age = journey_settings.VISITOR_COOKIE_AGE_DAYS
    if mode == "exempt" and (not isinstance(age, int) or age > 395):
        errors.append(
            Error(
                "The CNIL exemption allows a visitor cookie of at most 13 months.",
                hint="Set VISITOR_COOKIE_AGE_DAYS to 395 or less.",
                id="wagtail_journey.E005",
            )
        )
    if mode == "exempt" and journey_settings.AUDIENCE_RETENTION_DAYS > 760:
        errors.append(
            Error(
                "The CNIL exemption allows keeping audience data at most 25 months.",
                hint="Set AUDIENCE_RETENTION_DAYS to 760 or less.",
                id="wagtail_journey.E006",
            )
        )
    secret = journey_settings.SHOP_SECRET
    if secret is not None and len(str(secret)) < 32:
        errors.append(
            Error(
                "WAGTAIL_JOURNEY['SHOP_SECRET'] is too short to sign shop events safely.",
                hint="Use at least 32 random characters, e.g. python -c "
                "'import secrets; print(secrets.token_urlsafe(32))'.",
                id="wagtail_journey.E007",
            )
        )
    if journey_settings.RATE_LIMIT_CACHE not in settings.CACHES:
        errors.append(
            Error(
                f"WAGTAIL_JOURNEY['RATE_LIMIT_CACHE'] names the unknown cache "
                f"{journey_settings.RATE_LIMIT_CACHE!r}.",
                hint="Use an alias from CACHES (rate limits, replay protection, daily salt).",
                id="wagtail_journey.E008",
            )
        )
    for key in journey_settings.unknown_keys():
        errors.append(
            Warning(
                f"Unknown key {key!r} in WAGTAIL_JOURNEY.",
                hint="Check the spelling against docs/settings.md.",
                id="wagtail_journey.W001",
            )
        )
    return errors
