"""Test settings: the example site's test settings (pytest reads this module)."""

from demo.settings.test import *  # noqa: F403
