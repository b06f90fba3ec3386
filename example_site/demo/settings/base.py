"""Settings of the example site, installed the way docs/installation.md says.

SQLite and django-q2's ORM broker by default; PostgreSQL when DATABASE_URL is
set and the Redis broker when REDIS_URL is set.
"""

import os
import secrets
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
BASE_DIR = PROJECT_DIR.parent


def load_or_create_secret_key(path: Path) -> str:
    """The key in ``path``, created (random, readable by its owner only) on first run.

    No key ships with the code: a published key lets anyone forge the demo's
    signed links, sessions and form tokens. The file is git-ignored.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text().strip()
        if key:
            return key
        # An empty file (a first run interrupted mid-write): replace it.
        path.unlink(missing_ok=True)
        return load_or_create_secret_key(path)
    key = secrets.token_urlsafe(50)
    with os.fdopen(fd, "w") as file:
        file.write(key + "\n")
    return key


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or load_or_create_secret_key(
    Path(os.environ.get("DJANGO_SECRET_KEY_FILE", BASE_DIR / ".secret_key"))
)
DEBUG = False
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]", "testserver"]

INSTALLED_APPS = [
    "demo",
    # wagtail_journey and what it needs (docs/installation.md)
    "wagtail_journey",
    "wagtail_modeladmin",
    "django_q",
    "anymail",
    # Wagtail
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_filters",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

ROOT_URLCONF = "demo.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PROJECT_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "demo.wsgi.application"


def _databases() -> dict:
    url = os.environ.get("DATABASE_URL")
    if url:
        import dj_database_url

        return {"default": dj_database_url.parse(url, conn_max_age=60)}
    return {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            # django-q2's ORM broker and the web server share the file: WAL lets
            # readers run beside the writer, IMMEDIATE transactions take the
            # write lock up front (no deadlock on upgrade), and the timeout
            # waits for the lock instead of failing with "database is locked".
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }


DATABASES = _databases()
IS_SQLITE = "sqlite" in DATABASES["default"]["ENGINE"]

REDIS_URL = os.environ.get("REDIS_URL")

Q_CLUSTER = {
    # One name per site sharing a broker; tests give each run its own.
    "name": os.environ.get("Q_CLUSTER_NAME", "journey"),
    # One worker on SQLite (django-q2 issue 144); more on PostgreSQL/Redis.
    "workers": 1 if IS_SQLITE and not REDIS_URL else 2,
    "timeout": 60,
    "retry": 90,
    "max_attempts": 3,
    "catch_up": False,
    "poll": 0.2,
    "label": "Tasks",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# Wagtail's own cache (read on every page) in the database: pages keep
# working when Redis is down. wagtail_journey's rate limits, salts and
# tracking buffer use the "journey" Redis cache when there is one; they fall
# back to the database while it is unreachable (docs/installation.md).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "journey_cache",
    }
}
if REDIS_URL:
    CACHES["journey"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "journey",
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français"), ("pt", "Português")]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
]
STATICFILES_DIRS = [PROJECT_DIR / "static"]
STATIC_ROOT = BASE_DIR / "static_collected"
STATIC_URL = "/static/"
MEDIA_ROOT = BASE_DIR / "media"
MEDIA_URL = "/media/"

DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000

WAGTAIL_SITE_NAME = "wagtail_journey demo"
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
# Nothing leaves the machine: no update check, no Gravatar (which would send a
# hash of each editor's email to a third party).
WAGTAIL_ENABLE_UPDATE_CHECK = False
WAGTAIL_GRAVATAR_PROVIDER_URL = None
WAGTAILADMIN_BASE_URL = os.environ.get("WAGTAILADMIN_BASE_URL", "http://127.0.0.1:8000")

# Email: anymail's test backend keeps messages in memory; the demo overrides
# it with a file log so you can read what would have been sent.
EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
DEFAULT_FROM_EMAIL = "Journey demo <hello@example.com>"
ANYMAIL = {
    # Provider webhooks (/anymail/<esp>/tracking/) are refused without it.
    "WEBHOOK_SECRET": os.environ.get("ANYMAIL_WEBHOOK_SECRET", "demo-user:demo-only-secret"),
}

# A real provider instead: e.g. POSTMARK_SERVER_TOKEN (and POSTMARK_API_URL,
# which the worker tests point at a local server) sends through anymail's
# Postmark backend. Any anymail ESP works the same way (docs/email-delivery.md).
if os.environ.get("POSTMARK_SERVER_TOKEN"):
    EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    ANYMAIL["POSTMARK_SERVER_TOKEN"] = os.environ["POSTMARK_SERVER_TOKEN"]
    if os.environ.get("POSTMARK_API_URL"):
        ANYMAIL["POSTMARK_API_URL"] = os.environ["POSTMARK_API_URL"]

# Wagtail's background jobs (reference index, search) and the package's own go
# to django-q2, so one `manage.py qcluster` runs them all (docs/email-delivery.md).
TASKS = {"default": {"BACKEND": "wagtail_journey.tasks_backend.DjangoQBackend"}}

WAGTAIL_JOURNEY = {
    "TRACKING_CONSENT_MODE": "required",
    "RATE_LIMIT_CACHE": "journey" if REDIS_URL else "default",
    # With Redis, page views and journey.js events leave the request in one
    # Redis call and the worker stores them in bulk (docs/tracking.md).
    "TRACKING_BUFFER": "journey" if REDIS_URL else None,
    # Shown in marketing emails whose template has no footer block.
    "EMAIL_POSTAL_ADDRESS": "Journey Demo Lda., Rua do Exemplo 1, 1100-001 Lisboa, Portugal",
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
