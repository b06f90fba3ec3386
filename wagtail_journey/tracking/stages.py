"""Journey stage of a page: its own PageJourneyStage, else the nearest ancestor's.

Each process keeps the (small) table of assigned stages in memory, keyed by
the page's tree path, and reloads it at most every STAGE_CACHE_SECONDS or at
once when an assignment changes in this process. A page view then resolves its
stage from ``page.path`` without a query.
"""

from __future__ import annotations

import threading
import time

from django.db.models.signals import post_delete, post_save

#: Other processes see a changed assignment within this many seconds.
STAGE_CACHE_SECONDS = 60

_lock = threading.Lock()
_state: dict = {"loaded_at": 0.0, "by_path": {}}


def _load() -> dict[str, tuple[str, bool]]:
    from wagtail_journey.models import PageJourneyStage

    rows = PageJourneyStage.objects.values_list("page__path", "stage", "include_descendants")
    return {path: (stage, inherit) for path, stage, inherit in rows}


def _by_path() -> dict[str, tuple[str, bool]]:
    now = time.monotonic()
    if now - _state["loaded_at"] > STAGE_CACHE_SECONDS:
        with _lock:
            if now - _state["loaded_at"] > STAGE_CACHE_SECONDS:
                _state["by_path"] = _load()
                _state["loaded_at"] = now
    return _state["by_path"]


def invalidate(*args, **kwargs) -> None:
    _state["loaded_at"] = 0.0


def stage_for_path(path: str, steplen: int = 4) -> str:
    """Stage for a page with treebeard ``path`` ("" when none applies)."""
    table = _by_path()
    if not table:
        return ""
    own = table.get(path)
    if own:
        return own[0]
    for end in range(len(path) - steplen, 0, -steplen):
        found = table.get(path[:end])
        if found and found[1]:  # an ancestor that keeps its stage to itself is skipped
            return found[0]
    return ""


def stage_for_page(page) -> str:
    return stage_for_path(page.path, getattr(page, "steplen", 4))


def connect_signals() -> None:
    from wagtail_journey.models import PageJourneyStage

    post_save.connect(invalidate, sender=PageJourneyStage, dispatch_uid="wj_stage_save")
    post_delete.connect(invalidate, sender=PageJourneyStage, dispatch_uid="wj_stage_delete")
