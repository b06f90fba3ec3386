"""The example site with wagtail_journey installed, as docs/installation.md says.

Tracking consent mode ``exempt`` (audience measurement without a consent
banner), so page views are tracked for every visitor once tracking exists:
the benchmark measures the cost of tracking, not of skipping it.

With Redis (--redis-url) tracking is buffered as in the example site
(TRACKING_BUFFER) and the benchmarks run a qcluster beside the server;
BENCH_TRACKING_BUFFER=off measures the unbuffered path on the same Redis.
"""

import os

from bench.settings_common import *  # noqa: F403
from bench.settings_common import WAGTAIL_JOURNEY

WAGTAIL_JOURNEY = {**WAGTAIL_JOURNEY, "TRACKING_CONSENT_MODE": "exempt"}
if os.environ.get("BENCH_TRACKING_BUFFER") == "off":
    WAGTAIL_JOURNEY["TRACKING_BUFFER"] = None
