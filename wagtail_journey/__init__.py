"""wagtail_journey: consent-first marketing automation for Wagtail.

The public API is :func:`record`, the one way a touchpoint enters the system.
Importing this package must stay cheap and free of side effects (it is imported
by Django before the app registry is ready), so the real implementation is
loaded on first call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wagtail_journey.models import Touchpoint

__all__ = ["record"]
__version__ = "0.1.0.dev0"


def record(kind: str, **kwargs: Any) -> Touchpoint:
    """Record a touchpoint and run its reactions; see :func:`wagtail_journey.events.record`."""
    from wagtail_journey.events import record as _record

    return _record(kind, **kwargs)
