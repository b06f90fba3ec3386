"""Settings of the tracking benchmarks' server: the example site, PostgreSQL, Redis.

JOURNEY_TRACKING=0 turns tracking off (the baseline); rate limits are raised so
the load generator is not throttled; a bare one-INSERT view is the collect baseline.
"""

import os

from demo.settings.base import *  # noqa: F403

DEBUG = False
ROOT_URLCONF = "bench_tracking_urls"
WAGTAIL_JOURNEY = {
    "TRACKING_CONSENT_MODE": "required",
    "TRACKING_ENABLED": os.environ.get("JOURNEY_TRACKING", "1") == "1",
    "COLLECT_RATE_LIMIT_IP": (10**9, 60),
    "COLLECT_RATE_LIMIT_VISITOR": (10**9, 60),
}
LOGGING = {"version": 1, "disable_existing_loggers": False}
