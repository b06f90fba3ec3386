"""Which flows use a template or a segment, so deleting one can be refused with a clear error.

Both the live version of each flow and its latest draft count: deleting a
template a draft sends would break the flow when it is published.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from wagtail_journey.flows.plan import compile_plan
from wagtail_journey.models.flows import Flow


def _versions(flow: Flow) -> list[Any]:
    versions = [flow]
    if flow.latest_revision_id and flow.latest_revision_id != flow.live_revision_id:
        versions.append(flow.latest_revision.as_object())
    return versions


def _references(flow: Any) -> tuple[set[int], set[int]]:
    """(template ids, segment ids) a version of a flow refers to."""
    plan = compile_plan(flow)
    templates = {
        int(n.value["template"])
        for n in plan.nodes.values()
        if n.type == "send_email" and str(n.value.get("template") or "").isdigit()
    }
    segments = {
        int(v["segment"])
        for name, v in ([plan.trigger] if plan.trigger else []) + plan.goals
        if name == "segment_entered" and str(v.get("segment") or "").isdigit()
    }
    return templates, segments


def flows_using(*, templates: Iterable[int] = (), segments: Iterable[int] = ()) -> list[Flow]:
    templates, segments = set(templates), set(segments)
    found = []
    for flow in Flow.objects.select_related("latest_revision"):
        for version in _versions(flow):
            t, s = _references(version)
            if t & templates or s & segments:
                found.append(flow)
                break
    return found
