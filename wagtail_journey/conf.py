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
    # Root URL of the public links the app puts in emails (double opt-in
    # confirmation, ...), e.g. "https://www.example.com". None uses Wagtail's
    # WAGTAILADMIN_BASE_URL, then the default Wagtail Site; never the request's
    # Host header (wagtail_journey.links).
    "PUBLIC_BASE_URL": None,
    # Shared secret for the signed shop-event endpoint (None disables it).
    "SHOP_SECRET": None,
    # Cache alias used for rate limits, replay protection and the daily salt.
    "RATE_LIMIT_CACHE": "default",
    # Where rate-limit counters live: "auto" uses that cache when it increments
    # atomically (Redis, Memcached) and the database otherwise (one atomic
    # upsert), so limits hold across processes on the embedded default too.
    "RATE_LIMIT_BACKEND": "auto",
    # --- Tracking (docs/tracking.md) ---
    # Master switch: False records no page views and ignores the collect endpoint.
    "TRACKING_ENABLED": True,
    # Honour Global Privacy Control (Sec-GPC: 1) and Do Not Track (DNT: 1) as
    # an opt-out in both consent modes.
    "HONOUR_GPC": True,
    "HONOUR_DNT": True,
    # Cookie remembering the visitor's analytics choice ("1"/"0"), readable by
    # journey.js, and its lifetime in days.
    "CONSENT_COOKIE_NAME": "wj_c",
    "CONSENT_COOKIE_AGE_DAYS": 180,
    # Session cookie (a random session id; slides by SESSION_TIMEOUT_MINUTES).
    "SESSION_COOKIE_NAME": "wj_sid",
    # Exempt mode with TRACKING_BUFFER: a signed cookie (httponly) saying for this
    # many seconds that the browser is an audience-only visitor spares its page
    # views and beacons the visitor lookup (0 turns it off; docs/tracking.md).
    "VISITOR_STATE_COOKIE_NAME": "wj_vs",
    "VISITOR_STATE_SECONDS": 300,
    # Anonymous touchpoints of exempt-mode audiences are kept at most this long
    # (the CNIL exemption allows 25 months).
    "AUDIENCE_RETENTION_DAYS": 760,
    # Cache alias of a Redis cache: page views and journey.js events are then
    # appended to a Redis list on the request path and stored in bulk by a
    # django-q2 task (docs/tracking.md, "Buffered tracking"). None stores them
    # on the request path (one INSERT each).
    "TRACKING_BUFFER": None,
    # Items stored per flush transaction, and seconds after which a batch a
    # worker claimed but did not finish is taken over by another.
    "TRACKING_BUFFER_BATCH": 500,
    # Seconds a flush waits for more items after the first one arrives in an
    # empty queue (touchpoints are that much later; batches that much bigger).
    "TRACKING_BUFFER_GATHER_SECONDS": 1.0,
    "TRACKING_BUFFER_STALE_SECONDS": 300,
    # Collect endpoint (journey.js): largest accepted body in bytes, events per
    # request, and origins allowed besides the site's own (e.g. "https://shop.example").
    "COLLECT_MAX_BYTES": 4096,
    "COLLECT_MAX_EVENTS": 20,
    "COLLECT_ALLOWED_ORIGINS": [],
    # Rate limits as (requests, seconds): per client IP and per visitor.
    "COLLECT_RATE_LIMIT_IP": (120, 60),
    "COLLECT_RATE_LIMIT_VISITOR": (60, 60),
    "SHOP_RATE_LIMIT_IP": (600, 60),
    # Seconds a signed shop event stays valid (its timestamp must be this fresh).
    "SHOP_SIGNATURE_MAX_AGE": 300,
    # request.META key holding the client IP when behind a trusted proxy, e.g.
    # "HTTP_X_REAL_IP" (the first address of a comma-separated list is used).
    "CLIENT_IP_HEADER": None,
    # --- Forms and consent (docs/landing-pages.md, docs/privacy.md) ---
    # Form posts allowed per client IP per window (count, seconds).
    "FORM_RATE_LIMIT": (20, 600),
    # A form submitted faster than this after rendering is treated as a bot.
    "FORM_MIN_FILL_SECONDS": 2,
    # A rendered form stays valid this long (then the visitor resubmits).
    "FORM_MAX_AGE_HOURS": 24,
    # Double opt-in confirmation links expire after this many days.
    "DOUBLE_OPT_IN_MAX_AGE_DAYS": 7,
    # Confirmation emails sent to one address per window (count, seconds).
    # Anyone can type someone's address into a form: further requests are
    # recorded (ConsentRecord.confirmation_skipped = "throttled") but send nothing.
    "DOUBLE_OPT_IN_THROTTLE": (3, 86400),
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
    # --- Email delivery (docs/email-delivery.md) ---
    # Messages claimed and sent per batch by one worker task. A worker killed
    # mid-batch leaves at most this many messages in doubt ("unknown").
    "EMAIL_BATCH_SIZE": 100,
    # One sending task stops claiming new batches after this many seconds (the
    # next task or the minute sweep continues). Keep it plus one batch's sending
    # time below django-q2's Q_CLUSTER["timeout"], which kills a task mid-batch.
    "EMAIL_RUN_SECONDS": 20,
    # Marketing messages per contact at most, as (count, hours), e.g. (3, 24);
    # None sets no cap. A message over the cap is skipped with that reason.
    "EMAIL_FREQUENCY_CAP": None,
    # Quiet hours for marketing messages as (start hour, end hour) in TIME_ZONE,
    # e.g. (21, 8); messages due then wait until the end. None: no quiet hours.
    "EMAIL_QUIET_HOURS": None,
    # Tries for a provider that cannot be reached or answers "try later"
    # (HTTP 429/5xx), waiting EMAIL_RETRY_SECONDS * 2**(try - 1) in between.
    "EMAIL_MAX_ATTEMPTS": 5,
    "EMAIL_RETRY_SECONDS": 60,
    # A message claimed this many seconds ago and still "sending" (its worker
    # died) is marked "unknown" for a person to check; never resent blindly.
    "EMAIL_SENDING_STALE_SECONDS": 900,
    # Unsubscribe links (and List-Unsubscribe headers) stay valid this long.
    "UNSUBSCRIBE_MAX_AGE_DAYS": 365,
    # An address that receives unsubscribe requests by email, added to the
    # List-Unsubscribe header as a mailto: URL (None: the https URL only).
    "UNSUBSCRIBE_MAILTO": None,
    # --- Email content (docs/emails.md) ---
    # The sender's postal address, shown in the footer of marketing emails
    # whose template has no footer block of its own (anti-spam laws ask for it).
    "EMAIL_POSTAL_ADDRESS": "",
    # A click on a tracked link this many seconds or less after the message was
    # sent is taken as a mail scanner's, not a person's: recorded but flagged,
    # never scored, counted as engagement or used to trigger flows.
    "EMAIL_MACHINE_CLICK_SECONDS": 10,
    # User-agent fragments (lower case) of link scanners and mail proxies; a
    # click from one is flagged the same way. Bots known to ua-parser are too.
    "EMAIL_SCANNER_USER_AGENTS": [
        "barracuda",
        "mimecast",
        "proofpoint",
        "messagelabs",
        "symantec",
        "forcepoint",
        "trendmicro",
        "sophos",
        "safelinks",
        "microsoft office",
        "googleimageproxy",
        "yahoomailproxy",
        "python-requests",
        "curl/",
        "wget/",
        "go-http-client",
        "headlesschrome",
        "phantomjs",
    ],
    # A click joins the clicking browser to the contact (it proves control of
    # the address) only on a link at most this many days old: an old message
    # forwarded to someone else must not hand them the contact's history.
    "EMAIL_CLICK_IDENTIFY_DAYS": 30,
    # "Send a test to me" in the template admin: (messages, seconds) per editor.
    "EMAIL_TEST_RATE_LIMIT": (10, 3600),
    # --- Flows (docs/flows.md) ---
    # Enrollments claimed and run per batch by one worker task.
    "FLOW_BATCH_SIZE": 100,
    # A step due within this many seconds is handed to a task at once (which
    # waits for it), instead of waiting for the minute sweep.
    "FLOW_NEAR_SECONDS": 10,
    # The minute sweep keeps running steps that fall due for this many seconds
    # (0 frees the worker at once; the lag of long waits is then up to a minute).
    # Keep it below Q_CLUSTER's "timeout".
    "FLOW_SWEEP_LOOKAHEAD_SECONDS": 40,
    # Date triggers ("30 days after the last order") are checked this often.
    "FLOW_DATE_TRIGGER_MINUTES": 15,
    # Webhook steps: HMAC key of the X-Journey-Signature header (None: a key
    # derived from SECRET_KEY), timeout in seconds, tries and first retry delay.
    "FLOW_WEBHOOK_SECRET": None,
    "FLOW_WEBHOOK_TIMEOUT": 5,
    "FLOW_WEBHOOK_MAX_ATTEMPTS": 5,
    "FLOW_WEBHOOK_RETRY_SECONDS": 30,
    # Report roll-ups: today and yesterday are recomputed this often, in minutes
    # (schedule "journey-report-rollup"); reports are that fresh.
    "REPORT_ROLLUP_MINUTES": 15,
    # Data-subject rights (docs/privacy.md). Export download links are valid this
    # many hours (at most 72); export files live in STORAGES["wagtail_journey_exports"]
    # if defined, else in EXPORT_DIR (default: a directory under the system's temp dir).
    "EXPORT_LINK_HOURS": 72,
    "EXPORT_DIR": None,
    # Retention (privacy/retention.py, daily): None keeps forever. Contacts with no
    # consent in force and no activity for this many days are erased; form
    # submissions' answers are emptied; final outbound-email rows are deleted;
    # Wagtail audit-log entries about the package's models are deleted.
    "INACTIVE_CONTACT_RETENTION_DAYS": None,
    "SUBMISSION_RETENTION_DAYS": None,
    "OUTBOUND_EMAIL_RETENTION_DAYS": None,
    "AUDIT_RETENTION_DAYS": None,
    # --- Visitors' rights pages (docs/privacy.md) ---
    # A preference link requested by email address works once, for this many hours.
    "PREFERENCE_LINK_MAX_AGE_HOURS": 24,
    # The "Manage your preferences" link in an email's footer stays valid this long.
    "PREFERENCE_EMAIL_LINK_MAX_AGE_DAYS": 30,
    # Once a link is opened, the browser may use the preference centre this
    # long (a signed, HttpOnly cookie scoped to the preference pages).
    "PREFERENCE_SESSION_SECONDS": 3600,
    # Link requests by email address: (requests, seconds) per client IP and per address.
    "PREFERENCE_LINK_RATE_LIMIT_IP": (10, 3600),
    "PREFERENCE_LINK_RATE_LIMIT_ADDRESS": (3, 3600),
    # The erasure confirmation link works once, for this many hours.
    "ERASURE_LINK_MAX_AGE_HOURS": 24,
    # --- Cookie categories (docs/tracking.md) ---
    # Extra categories the consent banner offers beside analytics, each mapped
    # to the key of a ConsentPurpose (its name and text are what visitors read;
    # each answer is a ConsentRecord of its version), e.g.
    # {"functionality": "cookies-functionality", "marketing": "cookies-marketing"}.
    # "analytics" may be mapped too (its answer is then recorded as well).
    # Empty (the default): the banner asks about analytics only, as before.
    "CONSENT_CATEGORIES": {},
    # Cookie remembering the extra categories' answers (granted ones, dot-separated).
    "CONSENT_CATEGORIES_COOKIE_NAME": "wj_cc",
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
