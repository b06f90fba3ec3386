"""Settings for the test suite (tests/settings.py imports these)."""

import os

from .base import *  # noqa: F403
from .base import CACHES, DATABASES, IS_SQLITE, Q_CLUSTER, REDIS_URL

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
# Tasks run in the calling process unless a test starts a real qcluster.
Q_CLUSTER = {**Q_CLUSTER, "sync": True}
if IS_SQLITE:
    DATABASES["default"]["TEST"] = {"NAME": None}
if REDIS_URL:
    # `make test-postgres`: the cache stays on Redis as in production. A prefix
    # of this run's own keeps test runs sharing a Redis database apart.
    # Both aliases (the journey's settings in base.py name "journey") on Redis.
    _redis = {**CACHES["journey"], "KEY_PREFIX": f"journey-test-{os.getpid()}"}
    CACHES = {"default": _redis, "journey": _redis}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# One test process: a per-process cache is shared by everything that runs.
SILENCED_SYSTEM_CHECKS = ["wagtail_journey.W053"]
WAGTAILADMIN_BASE_URL = "http://testserver"

# Forms in tests are filled instantly; the minimum fill time has its own test.
# Tracking is stored on the request path, so tests read touchpoints at once;
# tests/tracking/test_buffer.py switches the buffer on where it is the point.
WAGTAIL_JOURNEY = {
    **WAGTAIL_JOURNEY,  # noqa: F405
    "FORM_MIN_FILL_SECONDS": 0,
    "RATE_LIMIT_CACHE": "default",
    "TRACKING_BUFFER": None,
}
# The demo's report traffic (demo/report_demo.py) at a tenth of its size: tests
# that load the demo stay quick and the reports still have months to show.
DEMO_REPORT_VISITORS = 600
