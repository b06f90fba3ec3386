"""A flow revision compiled into a graph of steps with stable ids.

Editors nest branches inside the step that branches (a condition's "yes" and
"no" lists); the plan flattens that tree: every step knows the step that
follows it (the next one in its list, or, at the end of a branch, whatever
follows the branching step) and the first step of each of its branches.
Block ids stay the same across revisions, so an enrollment's ``step_id`` means
the same step in the revision it entered on and in a newer one.

Plans are cached per revision (a revision never changes).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

_cache: OrderedDict[int, Plan] = OrderedDict()
CACHE_SIZE = 256


@dataclass
class Node:
    id: str
    type: str
    value: dict
    next: str | None = None
    branches: dict[str, str | None] = field(default_factory=dict)
    parent: str | None = None
    branch: str = ""  # which branch of the parent it sits in
    depth: int = 0


@dataclass
class Plan:
    flow_id: int | None
    revision_id: int | None
    name: str
    trigger: tuple[str, dict] | None
    goals: list[tuple[str, dict]]
    nodes: dict[str, Node]
    order: list[str]  # every step id, in reading order (the diagram's order)
    first: str | None
    reentry: str
    reentry_days: int
    marketing: bool
    entry_rules: Any = None  # StreamValue of rule groups
    entry_match: str = "all"
    _entry_q: Any = None
    _conditions: dict[str, Q] = field(default_factory=dict)

    def entry_q(self) -> Q | None:
        """The entry filter as a Q (None: everyone may enter); raises RuleError."""
        if self._entry_q is None:
            from wagtail_journey.segments import compile_rules

            groups = [g for g in (self.entry_rules or []) if list(g.value["rules"])]
            self._entry_q = compile_rules(groups, self.entry_match) if groups else Q()
        return self._entry_q or None

    def condition_q(self, node: Node) -> Q:
        """A condition step's rules as a Q; raises RuleError."""
        if node.id not in self._conditions:
            from wagtail_journey.segment_rules import rules_stream_block
            from wagtail_journey.segments import compile_rules

            rules = rules_stream_block().to_python(node.value.get("rules") or [])
            self._conditions[node.id] = compile_rules(rules, node.value.get("match") or "all")
        return self._conditions[node.id]

    def target(self, node: Node, branch: str) -> str | None:
        """Where a branch of ``node`` starts (its first step, else what follows node)."""
        head = node.branches.get(branch)
        return head if head is not None else node.next


def with_ids(items: list) -> bool:
    """Add a uuid to each raw step (and each step in its branches) lacking one;
    returns whether any was added."""
    import uuid

    from wagtail_journey.flows.steps import get_step

    changed = False
    for item in items or []:
        if not item.get("id"):
            item["id"] = str(uuid.uuid4())
            changed = True
        step = get_step(item.get("type", ""))
        value = item.get("value")
        if step is None or not isinstance(value, dict):
            continue
        for name, _label in step.branches:
            children = value.get(name)
            if isinstance(children, list):
                value[name] = children = [dict(c) for c in children]
                changed = with_ids(children) or changed
    return changed


def _walk(items: list, plan: Plan, after: str | None, parent: str | None, branch: str, depth: int):
    """Add ``items`` (raw stream items) to plan; returns the id of the first one."""
    from wagtail_journey.flows.steps import get_step

    ids = []
    for index, item in enumerate(items or []):
        node_id = str(item.get("id") or f"{parent or 'root'}:{branch}:{index}")
        node = Node(
            id=node_id,
            type=item.get("type", ""),
            value=item.get("value") or {},
            parent=parent,
            branch=branch,
            depth=depth,
        )
        plan.nodes[node_id] = node
        plan.order.append(node_id)
        ids.append(node_id)
        step = get_step(node.type)
        for name, _label in step.branches if step else ():
            node.branches[name] = None  # filled after the following step is known
            node.value.setdefault(name, [])
    for i, node_id in enumerate(ids):
        plan.nodes[node_id].next = ids[i + 1] if i + 1 < len(ids) else after
    # Branch bodies after the list itself: their "after" is the branching step's next.
    for node_id in ids:
        node = plan.nodes[node_id]
        for name in list(node.branches):
            node.branches[name] = _walk(
                node.value.get(name) or [], plan, node.next, node_id, name, depth + 1
            )
    return ids[0] if ids else None


def compile_plan(flow: Any, revision_id: int | None = None) -> Plan:
    """The plan of a Flow instance (the live row, a draft, a revision's object)."""
    trigger = None
    raw_trigger = list(flow.trigger.raw_data) if flow.trigger else []
    if raw_trigger:
        trigger = (raw_trigger[0]["type"], raw_trigger[0].get("value") or {})
    goals = [(g["type"], g.get("value") or {}) for g in (flow.goals.raw_data if flow.goals else [])]
    plan = Plan(
        flow_id=flow.pk,
        revision_id=revision_id,
        name=flow.name,
        trigger=trigger,
        goals=goals,
        nodes={},
        order=[],
        first=None,
        reentry=flow.reentry,
        reentry_days=flow.reentry_days,
        marketing=flow.marketing,
        entry_rules=flow.entry_rules,
        entry_match=flow.entry_match,
    )
    raw_steps = [dict(item) for item in (flow.steps.raw_data if flow.steps else [])]
    plan.first = _walk(raw_steps, plan, None, None, "", 0)
    return plan


def plan_for_revision(revision_id: int) -> Plan | None:
    """The (cached) plan of a flow revision; None when the revision is gone."""
    plan = _cache.get(revision_id)
    if plan is not None:
        _cache.move_to_end(revision_id)
        return plan
    from wagtail.models import Revision

    revision = Revision.objects.filter(pk=revision_id).first()
    if revision is None:
        return None
    plan = compile_plan(revision.as_object(), revision_id)
    _cache[revision_id] = plan
    while len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)
    return plan
