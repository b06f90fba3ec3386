"""System checks: misconfiguration is reported at startup with a hint, not at 3 a.m.

Run by ``manage.py check`` (and every ``runserver``/``migrate``). Every id is
listed in docs/settings.md; ids are never reused for another meaning.
"""

from __future__ import annotations

from multiprocessing import cpu_count
from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from wagtail_journey.conf import CONSENT_MODES, IP_PROOF_MODES, journey_settings

REQUIRED_APPS = {
    "django_q": "django-q2 runs the journey's background work (email, rebuilds, purges).",
    "anymail": "django-anymail sends email and receives your provider's webhooks.",
    "taggit": "django-taggit stores contact tags.",
    "wagtail.snippets": "Consent purposes and email templates are snippets.",
    "wagtail_modeladmin": "The Journey admin listings (contacts, touchpoints) use it.",
}

#: The CNIL audience-measurement exemption: a cookie lives at most 13 months
#: and the data it collects is kept at most 25 months.
MAX_EXEMPT_COOKIE_DAYS = 395
MAX_EXEMPT_RETENTION_DAYS = 760

#: Settings that must be positive whole numbers.
POSITIVE_INT_SETTINGS = (
    "VISITOR_COOKIE_AGE_DAYS",
    "SESSION_TIMEOUT_MINUTES",
    "ANONYMOUS_RETENTION_DAYS",
    "TRACKING_BUFFER_BATCH",
    "TRACKING_BUFFER_STALE_SECONDS",
    "REPORT_ROLLUP_MINUTES",
)

#: Q_CLUSTER keys that choose a django-q2 broker; without one it uses Redis on localhost.
BROKER_KEYS = ("orm", "redis", "django_redis", "broker_class", "iron_mq", "sqs", "mongo")


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


def _q_timeout() -> int | None:
    """django-q2's task timeout in seconds, when one is set."""
    q_cluster = getattr(settings, "Q_CLUSTER", None)
    timeout = q_cluster.get("timeout") if isinstance(q_cluster, dict) else None
    return timeout if _positive_int(timeout) else None


@register(Tags.compatibility)
def check_q_cluster(app_configs: Any = None, **kwargs: Any) -> list:
    q_cluster = getattr(settings, "Q_CLUSTER", None)
    if not q_cluster or not isinstance(q_cluster, dict):
        return [
            Error(
                "Q_CLUSTER is not configured." if not q_cluster else "Q_CLUSTER must be a dict.",
                hint=(
                    "Add a Q_CLUSTER dict, e.g. {'name': 'journey', 'orm': 'default'} "
                    "(see docs/installation.md), and run `manage.py qcluster`."
                ),
                id="wagtail_journey.E002",
            )
        ]
    errors = []
    if not q_cluster.get("sync") and not any(q_cluster.get(key) for key in BROKER_KEYS):
        errors.append(
            Warning(
                "Q_CLUSTER names no broker, so django-q2 uses Redis on localhost:6379.",
                hint="Set 'orm': 'default' (the database) or 'redis': '<url>' in Q_CLUSTER.",
                id="wagtail_journey.W003",
            )
        )
    alias = q_cluster.get("orm")
    if alias:
        if alias not in settings.DATABASES:
            errors.append(
                Error(
                    f"Q_CLUSTER['orm'] is {alias!r}, which is not a key of DATABASES.",
                    hint="Use the alias of a configured database, usually 'default'.",
                    id="wagtail_journey.E009",
                )
            )
            return errors
        engine = settings.DATABASES[alias].get("ENGINE", "")
        # django-q2 starts one worker per CPU when 'workers' is not set.
        workers = q_cluster.get("workers") or cpu_count()
        if "sqlite" in engine and int(workers) > 1:
            errors.append(
                Warning(
                    "django-q2's ORM broker on SQLite with more than one worker fails with "
                    "'database is locked' under load"
                    + ("." if q_cluster.get("workers") else " (no 'workers' means one per CPU)."),
                    hint="Set 'workers': 1 on SQLite, or use PostgreSQL/Redis in production.",
                    id="wagtail_journey.W002",
                )
            )
    return errors


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


@register(Tags.compatibility)
def check_journey_settings(app_configs: Any = None, **kwargs: Any) -> list:
    user = getattr(settings, "WAGTAIL_JOURNEY", None)
    if user is not None and not isinstance(user, dict):
        return [
            Error(
                f"WAGTAIL_JOURNEY must be a dict, not {type(user).__name__}.",
                hint="For example WAGTAIL_JOURNEY = {'TRACKING_CONSENT_MODE': 'required'}.",
                id="wagtail_journey.E010",
            )
        ]
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
    valid = {}
    for key in POSITIVE_INT_SETTINGS:
        value = getattr(journey_settings, key)
        if _positive_int(value):
            valid[key] = value
        else:
            errors.append(
                Error(
                    f"WAGTAIL_JOURNEY[{key!r}] is {value!r}; it must be a positive whole number.",
                    hint="See docs/settings.md for its meaning and default.",
                    id="wagtail_journey.E007",
                )
            )
    if mode == "exempt":
        age = valid.get("VISITOR_COOKIE_AGE_DAYS", 0)
        if age > MAX_EXEMPT_COOKIE_DAYS:
            errors.append(
                Error(
                    "The CNIL exemption allows a visitor cookie of at most 13 months, "
                    f"but VISITOR_COOKIE_AGE_DAYS is {age}.",
                    hint=f"Set VISITOR_COOKIE_AGE_DAYS to {MAX_EXEMPT_COOKIE_DAYS} or less.",
                    id="wagtail_journey.E005",
                )
            )
        retention = valid.get("ANONYMOUS_RETENTION_DAYS", 0)
        if retention > MAX_EXEMPT_RETENTION_DAYS:
            errors.append(
                Error(
                    "The CNIL exemption allows keeping audience data at most 25 months, "
                    f"but ANONYMOUS_RETENTION_DAYS is {retention}.",
                    hint=f"Set ANONYMOUS_RETENTION_DAYS to {MAX_EXEMPT_RETENTION_DAYS} or less.",
                    id="wagtail_journey.E006",
                )
            )
    cache = journey_settings.RATE_LIMIT_CACHE
    if cache not in getattr(settings, "CACHES", {}):
        errors.append(
            Error(
                f"WAGTAIL_JOURNEY['RATE_LIMIT_CACHE'] is {cache!r}, which is not a key of CACHES.",
                hint="Use the alias of a configured cache that every process shares.",
                id="wagtail_journey.E008",
            )
        )
    if mode == "exempt" and journey_settings.AUDIENCE_RETENTION_DAYS > 760:
        errors.append(
            Error(
                "The CNIL exemption allows keeping audience data at most 25 months.",
                hint="Set AUDIENCE_RETENTION_DAYS to 760 or less.",
                id="wagtail_journey.E011",
            )
        )
    secret = journey_settings.SHOP_SECRET
    if secret is not None and len(str(secret)) < 32:
        errors.append(
            Error(
                "WAGTAIL_JOURNEY['SHOP_SECRET'] is too short to sign shop events safely.",
                hint="Use at least 32 random characters, e.g. python -c "
                "'import secrets; print(secrets.token_urlsafe(32))'.",
                id="wagtail_journey.E012",
            )
        )
    buffer_alias = journey_settings.TRACKING_BUFFER
    if buffer_alias is not None:
        backend = getattr(settings, "CACHES", {}).get(buffer_alias, {}).get("BACKEND")
        if backend != "django.core.cache.backends.redis.RedisCache":
            errors.append(
                Error(
                    f"WAGTAIL_JOURNEY['TRACKING_BUFFER'] is {buffer_alias!r}, which is not the "
                    "alias of a cache using django.core.cache.backends.redis.RedisCache.",
                    hint="Name a Redis cache of CACHES, or set TRACKING_BUFFER to None.",
                    id="wagtail_journey.E013",
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


#: Email delivery settings that must be positive whole numbers.
EMAIL_POSITIVE_INTS = (
    "EMAIL_BATCH_SIZE",
    "EMAIL_MAX_ATTEMPTS",
    "EMAIL_RETRY_SECONDS",
    "EMAIL_SENDING_STALE_SECONDS",
    "EMAIL_RUN_SECONDS",
    "UNSUBSCRIBE_MAX_AGE_DAYS",
)


@register(Tags.compatibility)
def check_email_delivery(app_configs: Any = None, **kwargs: Any) -> list:
    """Email delivery: provider webhooks, the task backend, the delivery settings."""
    if not isinstance(getattr(settings, "WAGTAIL_JOURNEY", {}) or {}, dict):
        return []  # E010 says why
    errors = []
    anymail = getattr(settings, "ANYMAIL", {}) or {}
    # Only a provider posts webhooks: the console, file and test backends have none.
    backend_path = getattr(settings, "EMAIL_BACKEND", "") or ""
    uses_esp = backend_path.startswith("anymail.backends.") and not backend_path.startswith(
        "anymail.backends.test"
    )
    no_secret = not anymail.get("WEBHOOK_SECRET") and not getattr(
        settings, "ANYMAIL_WEBHOOK_SECRET", None
    )
    if uses_esp and no_secret:
        errors.append(
            Warning(
                "ANYMAIL['WEBHOOK_SECRET'] is not set: anyone can post fake delivery, bounce "
                "and unsubscribe events to your provider webhooks.",
                hint="Set it to 'user:long-random-password' and give the same credentials to "
                "your email provider's webhook URL (docs/email-delivery.md).",
                id="wagtail_journey.W075",
            )
        )
    backend = (getattr(settings, "TASKS", {}) or {}).get("default", {}).get("BACKEND", "")
    if backend != "wagtail_journey.tasks_backend.DjangoQBackend":
        errors.append(
            Warning(
                "Wagtail's background jobs (search and reference index updates) do not run on "
                "django-q2: " + (f"TASKS uses {backend}." if backend else "TASKS is not set."),
                hint="Set TASKS = {'default': {'BACKEND': "
                "'wagtail_journey.tasks_backend.DjangoQBackend'}} so one qcluster runs them.",
                id="wagtail_journey.W076",
            )
        )
    for key in EMAIL_POSITIVE_INTS:
        value = getattr(journey_settings, key)
        if not _positive_int(value):
            errors.append(
                Error(
                    f"WAGTAIL_JOURNEY[{key!r}] is {value!r}; it must be a positive whole number.",
                    hint="See docs/settings.md for its meaning and default.",
                    id="wagtail_journey.E075",
                )
            )
    run, timeout = journey_settings.EMAIL_RUN_SECONDS, _q_timeout()
    if _positive_int(run) and timeout and run * 2 > timeout:
        errors.append(
            Warning(
                f"WAGTAIL_JOURNEY['EMAIL_RUN_SECONDS'] is {run} and Q_CLUSTER['timeout'] "
                f"{timeout}: a sending task may be killed mid-batch, leaving its messages "
                "'unknown'.",
                hint="Keep EMAIL_RUN_SECONDS at most half of Q_CLUSTER['timeout'] "
                "(docs/email-delivery.md).",
                id="wagtail_journey.W077",
            )
        )
    cap = journey_settings.EMAIL_FREQUENCY_CAP
    if cap is not None and not (
        isinstance(cap, list | tuple) and len(cap) == 2 and all(_positive_int(v) for v in cap)
    ):
        errors.append(
            Error(
                f"WAGTAIL_JOURNEY['EMAIL_FREQUENCY_CAP'] is {cap!r}.",
                hint="Use None or (messages, hours), e.g. (3, 24).",
                id="wagtail_journey.E076",
            )
        )
    quiet = journey_settings.EMAIL_QUIET_HOURS
    if quiet is not None and not (
        isinstance(quiet, list | tuple)
        and len(quiet) == 2
        and all(isinstance(h, int) and not isinstance(h, bool) and 0 <= h <= 23 for h in quiet)
        and quiet[0] != quiet[1]
    ):
        errors.append(
            Error(
                f"WAGTAIL_JOURNEY['EMAIL_QUIET_HOURS'] is {quiet!r}.",
                hint="Use None or (start hour, end hour) in TIME_ZONE, e.g. (21, 8).",
                id="wagtail_journey.E077",
            )
        )
    return errors


def _positive_pair(value: Any) -> bool:
    return (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)
    )


@register(Tags.compatibility)
def check_email_content(app_configs: Any = None, **kwargs: Any) -> list:
    """Settings of email templates and click tracking (E070-E073)."""
    if not isinstance(getattr(settings, "WAGTAIL_JOURNEY", {}) or {}, dict):
        return []  # E010 says so
    errors = []
    agents = journey_settings.EMAIL_SCANNER_USER_AGENTS
    if not isinstance(agents, (list, tuple)) or not all(
        isinstance(a, str) and a and a == a.lower() for a in agents
    ):
        errors.append(
            Error(
                "WAGTAIL_JOURNEY['EMAIL_SCANNER_USER_AGENTS'] must be a list of lower-case, "
                "non-empty strings.",
                hint="For example ['mimecast', 'proofpoint'].",
                id="wagtail_journey.E070",
            )
        )
    for key, minimum in (("EMAIL_MACHINE_CLICK_SECONDS", 0), ("EMAIL_CLICK_IDENTIFY_DAYS", 1)):
        value = getattr(journey_settings, key)
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            errors.append(
                Error(
                    f"WAGTAIL_JOURNEY['{key}'] is {value!r}.",
                    hint=f"Use a whole number of at least {minimum}.",
                    id="wagtail_journey.E071",
                )
            )
    if not _positive_pair(journey_settings.EMAIL_TEST_RATE_LIMIT):
        errors.append(
            Error(
                "WAGTAIL_JOURNEY['EMAIL_TEST_RATE_LIMIT'] must be (messages, seconds).",
                hint="For example (10, 3600): ten test emails per editor per hour.",
                id="wagtail_journey.E072",
            )
        )
    errors += _check_mjml()
    return errors


def _check_mjml() -> list:
    """mjml-python and the pure-Python ``mjml`` package install the same module."""
    from importlib import metadata

    try:
        metadata.distribution("mjml")
    except metadata.PackageNotFoundError:
        return []
    return [
        Error(
            "The pure-Python 'mjml' package is installed: it replaces the module of "
            "'mjml-python', which renders wagtail_journey's emails.",
            hint="pip uninstall mjml && pip install --force-reinstall mjml-python",
            id="wagtail_journey.E073",
        )
    ]


@register(Tags.compatibility)
def check_public_links(app_configs: Any = None, **kwargs: Any) -> list:
    """Links in emails are built from configuration (wagtail_journey.links), never the Host."""
    from wagtail_journey.links import is_valid_root

    root = journey_settings.PUBLIC_BASE_URL
    if root is not None and not is_valid_root(root):
        return [
            Error(
                f"WAGTAIL_JOURNEY['PUBLIC_BASE_URL'] is {root!r}.",
                hint="Use the absolute root URL of the site, e.g. 'https://www.example.com'.",
                id="wagtail_journey.E020",
            )
        ]
    if root is None and not getattr(settings, "WAGTAILADMIN_BASE_URL", None):
        return [
            Warning(
                "Neither WAGTAIL_JOURNEY['PUBLIC_BASE_URL'] nor WAGTAILADMIN_BASE_URL is set: "
                "links in emails use the default Wagtail Site's hostname and port.",
                hint="Set WAGTAILADMIN_BASE_URL (or PUBLIC_BASE_URL) to the site's public URL.",
                id="wagtail_journey.W020",
            )
        ]
    return []
