"""What both bench sites share: the example site's production-like settings (DEBUG off).

bench/run.py points SQLITE_PATH or DATABASE_URL at the bench's own database;
without either these settings refuse to start rather than fall back to the
developer's example_site/db.sqlite3.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from demo.settings.base import *  # noqa: F403

if not os.environ.get("SQLITE_PATH") and not os.environ.get("DATABASE_URL"):
    raise ImproperlyConfigured(
        "The bench settings need SQLITE_PATH or DATABASE_URL (bench/run.py sets them)."
    )

DEBUG = False

#: Installed for wagtail_journey by docs/installation.md; the baseline site
#: (bench/settings_baseline.py) leaves them out.
JOURNEY_APPS = {"wagtail_journey", "wagtail_modeladmin", "django_q", "anymail"}
