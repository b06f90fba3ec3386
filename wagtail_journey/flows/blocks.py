"""The StreamField blocks of a flow, built from the trigger and step registries.

Built on first use (models/flows.py names these factories), after every app
registered its triggers and steps, and left out of migrations. Branches nest:
a step with branches holds a list of steps per branch, up to ``MAX_DEPTH``
levels, which keeps the editor readable and the diagram a tree.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from wagtail import blocks

from wagtail_journey.flows.steps import step_types
from wagtail_journey.flows.triggers import trigger_types

#: Levels of nested branches editors can build (a branch inside a branch ...).
MAX_DEPTH = 3


def trigger_block() -> blocks.StreamBlock:
    return blocks.StreamBlock([(name, t.block()) for name, t in trigger_types().items()], max_num=1)


def goals_block() -> blocks.StreamBlock:
    return blocks.StreamBlock([(name, t.block()) for name, t in trigger_types().items() if t.goal])


def steps_stream(depth: int = MAX_DEPTH, **kwargs) -> blocks.StreamBlock:
    children = []
    for name, step in step_types().items():
        fields = list(step.fields())
        if step.branches:
            if depth <= 1:
                continue
            for branch, label in step.branches:
                fields.append((branch, steps_stream(depth - 1, required=False, label=label)))
        children.append((name, blocks.StructBlock(fields, label=step.label, icon=step.icon)))
    return blocks.StreamBlock(children, **kwargs)


def steps_block() -> blocks.StreamBlock:
    return steps_stream(MAX_DEPTH, label=_("Steps"))
