"""The example site with wagtail_journey installed, as docs/installation.md says.

Tracking consent mode ``exempt`` (audience measurement without a consent
banner), so page views are tracked for every visitor once tracking exists:
the benchmark measures the cost of tracking, not of skipping it.
"""

from bench.settings_common import *  # noqa: F403
from bench.settings_common import WAGTAIL_JOURNEY

WAGTAIL_JOURNEY = {**WAGTAIL_JOURNEY, "TRACKING_CONSENT_MODE": "exempt"}
