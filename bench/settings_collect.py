"""The journey site of bench/settings_journey.py, set up for the collect benchmark.

Rate limits are raised so the load generator (a handful of visitors sending
beacons as fast as they can) is never throttled, and the URLconf adds the
baseline: a bare Django view that does one INSERT (bench/urls_collect.py).
"""

from bench.settings_journey import *  # noqa: F403
from bench.settings_journey import WAGTAIL_JOURNEY

WAGTAIL_JOURNEY = {
    **WAGTAIL_JOURNEY,
    "COLLECT_RATE_LIMIT_IP": (10**9, 60),
    "COLLECT_RATE_LIMIT_VISITOR": (10**9, 60),
}
ROOT_URLCONF = "bench.urls_collect"
