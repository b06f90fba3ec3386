"""Every wagtail_journey setting, read in one place, with its default.

Developers configure the app with one dict in their Django settings::

    WAGTAIL_JOURNEY = {"TRACKING_CONSENT_MODE": "exempt"}

Code reads ``journey_settings.TRACKING_CONSENT_MODE``; the value is looked up on
every access so ``override_settings`` in tests and settings reloads just work.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings

#: Allowed values of TRACKING_CONSENT_MODE (see docs/tracking.md).
CONSENT_MODES = ("required", "exempt")
#: Allowed values of CONSENT_IP_PROOF.
IP_PROOF_MODES = ("truncate", "hash", "full", "none")

DEFAULTS: dict[str, Any] = {
    # "required": no visitor cookie and no per-visitor data until the visitor
    # grants analytics consent. "exempt": first-party audience measurement
    # under the CNIL exemption (cookie <= 13 months, data <= 25 months).
    "TRACKING_CONSENT_MODE": "required",
    # Name and lifetime (days) of the first-party visitor cookie.
    "VISITOR_COOKIE_NAME": "wj_vid",
    "VISITOR_COOKIE_AGE_DAYS": 395,
    # A session ends after this many minutes without activity.
    "SESSION_TIMEOUT_MINUTES": 30,
    # Anonymous (never identified) visitor data older than this is purged.
    "ANONYMOUS_RETENTION_DAYS": 395,
    # How the submitter's IP address is kept as proof of consent.
    "CONSENT_IP_PROOF": "truncate",
    # Default sender of transactional and marketing email; falls back to
    # DEFAULT_FROM_EMAIL.
    "FROM_EMAIL": None,
    # Shared secret for the signed shop-event endpoint (None disables it).
    "SHOP_SECRET": None,
    # Cache alias used for rate limits (must support atomic incr()).
    "RATE_LIMIT_CACHE": "default",
    # Lifecycle stages, in order (docs/scoring-and-segments.md). Automatic
    # transitions (score thresholds, events; see LifecycleTransition in the
    # admin) only move a contact forward in this list; editors may move a
    # contact anywhere by hand. The first stage is the one new contacts get.
    "LIFECYCLE_STAGES": [
        "subscriber",
        "lead",
        "mql",
        "sql",
        "opportunity",
        "customer",
        "evangelist",
    ],
    # Score decay, applied daily by the django-q2 schedule "journey-score-decay"
    # (manage.py journey_schedules) in set-based SQL. None disables it; else:
    #   {"mode": "halve", "days": 90}: a contact inactive for `days` has its
    #       positive score halved, once per `days`-long period;
    #   {"mode": "subtract", "points": 5, "days": 30}: a contact inactive for
    #       `days` loses `points` (never below 0), once per `days`-long period.
    "SCORE_DECAY": None,
    # Full rebuild of every dynamic segment (schedule "journey-segment-rebuild"),
    # in minutes; relative-time rules ("visited within 7 days") age through it.
    "SEGMENT_REBUILD_MINUTES": 60,
}


class JourneySettings:
    """Attribute access to WAGTAIL_JOURNEY with defaults filled in."""

    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"Unknown wagtail_journey setting: {name}")
        user = getattr(django_settings, "WAGTAIL_JOURNEY", {}) or {}
        return user.get(name, DEFAULTS[name])

    def unknown_keys(self) -> list[str]:
        """Keys in WAGTAIL_JOURNEY that this version does not know (likely typos)."""
        user = getattr(django_settings, "WAGTAIL_JOURNEY", {}) or {}
        return sorted(set(user) - set(DEFAULTS))


journey_settings = JourneySettings()
