"""Triggers: what enrols a contact in a flow. A registry other apps extend.

Most triggers react to a touchpoint (``matches``): the flows reaction
(flows/reactions.py) asks each live flow's trigger whether the touchpoint
that just happened enrols its contact, so nothing polls. The same event
triggers serve as goals (a goal is "this touchpoint happened"). Two are not
touchpoint-driven: ``date`` (a schedule enrols contacts whose date came,
in one set-based statement) and ``manual`` (an editor or code enrols).

A custom trigger (developer guide, docs/flows.md)::

    from wagtail_journey.flows.triggers import TriggerType, register_trigger

    @register_trigger
    class VideoWatched(TriggerType):
        name = "video_watched"
        label = _("Watched a video")
        def fields(self): return [("video", blocks.CharBlock())]
        def matches(self, value, touchpoint):
            return touchpoint.kind == "video_play" and prop(touchpoint, "video") == value["video"]
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils.translation import gettext_lazy as _
from wagtail import blocks

from wagtail_journey.flows.timing import duration


def prop(touchpoint: Any, key: str) -> Any:
    return (touchpoint.properties or {}).get(key)


def list_items(raw: Any) -> list:
    """A ListBlock's raw items, in the old (plain) or new ({"type": "item"}) format."""
    items = []
    for item in raw or []:
        if isinstance(item, dict) and item.get("type") == "item" and "value" in item:
            items.append(item["value"])
        else:
            items.append(item)
    return items


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def filters_match(filters: Any, properties: dict | None) -> bool:
    """Whether touchpoint ``properties`` satisfy every property filter."""
    properties = properties or {}
    for f in list_items(filters):
        key = (f.get("key") or "").strip()
        if not key:
            continue
        op = f.get("op") or "eq"
        want = f.get("value") or ""
        have = properties.get(key)
        if op == "exists":
            ok = have not in (None, "")
        elif have is None:
            ok = op == "ne"
        elif op in ("gt", "lt"):
            a, b = _number(have), _number(want)
            ok = a is not None and b is not None and (a > b if op == "gt" else a < b)
        elif op == "contains":
            ok = str(want).casefold() in str(have).casefold()
        elif op == "ne":
            ok = str(have) != str(want)
        else:
            ok = str(have) == str(want) or (
                _number(have) is not None and _number(have) == _number(want)
            )
        if not ok:
            return False
    return True


class TriggerType:
    name: str = ""
    label: Any = ""
    #: Usable as a goal ("this happened"): the touchpoint-driven ones.
    goal: bool = True

    def fields(self) -> list[tuple[str, blocks.Block]]:
        return []

    def matches(self, value: dict, touchpoint: Any) -> bool:
        """Whether ``touchpoint`` fires this trigger (raw block value)."""
        return False

    def hold(self, value: dict) -> timedelta | None:
        """How long a new enrollment waits before its first step (abandonment)."""
        return None

    def describe(self, value: dict) -> str:
        return str(self.label)

    def block(self) -> blocks.StructBlock:
        return blocks.StructBlock(self.fields(), label=self.label)


_triggers: dict[str, TriggerType] = {}


def register_trigger(cls: type[TriggerType]) -> type[TriggerType]:
    """Class decorator: make a trigger available to flows (replaces the same name)."""
    _triggers[cls.name] = cls()
    return cls


def trigger_types() -> dict[str, TriggerType]:
    return dict(_triggers)


def get_trigger(name: str) -> TriggerType | None:
    return _triggers.get(name)


# --- field helpers -----------------------------------------------------------------


def kind_block(**kwargs) -> blocks.Block:
    from wagtail_journey.events import KIND_RE

    return blocks.RegexBlock(
        regex=KIND_RE.pattern,
        error_messages={"invalid": _("A kind is lower-case letters, digits and _ . : -")},
        help_text=_("The touchpoint kind, e.g. cart_updated or order_completed."),
        **kwargs,
    )


def filters_block() -> blocks.Block:
    return blocks.ListBlock(
        blocks.StructBlock(
            [
                ("key", blocks.CharBlock(max_length=64, label=_("Property"))),
                (
                    "op",
                    blocks.ChoiceBlock(
                        choices=[
                            ("eq", _("is")),
                            ("ne", _("is not")),
                            ("contains", _("contains")),
                            ("gt", _("is greater than")),
                            ("lt", _("is less than")),
                            ("exists", _("is present")),
                        ],
                        default="eq",
                        label=_("Test"),
                    ),
                ),
                ("value", blocks.CharBlock(required=False, max_length=200, label=_("Value"))),
            ]
        ),
        default=[],
        label=_("Only when its properties match"),
    )


def duration_block(label: Any, default_unit: str = "days") -> blocks.StructBlock:
    return blocks.StructBlock(
        [
            ("amount", blocks.IntegerBlock(min_value=0, default=1, label=_("Amount"))),
            (
                "unit",
                blocks.ChoiceBlock(
                    choices=[
                        ("minutes", _("minutes")),
                        ("hours", _("hours")),
                        ("days", _("days")),
                        ("weeks", _("weeks")),
                    ],
                    default=default_unit,
                    label=_("Unit"),
                ),
            ),
        ],
        label=label,
    )


def _segment_choices():
    from wagtail_journey.models import Segment

    return [(str(pk), name) for pk, name in Segment.objects.values_list("pk", "name")]


def _stage_choices():
    from wagtail_journey.stages import lifecycle_choices

    return lifecycle_choices()


def _form_choices():
    from wagtail_journey.segment_rules import _form_choices as forms

    return forms()


# --- built-in triggers -------------------------------------------------------------


@register_trigger
class FormSubmitted(TriggerType):
    name = "form_submitted"
    label = _("Form submitted")

    def fields(self):
        return [
            (
                "form",
                blocks.ChoiceBlock(
                    choices=_form_choices,
                    required=False,
                    label=_("Form"),
                    help_text=_("Empty: any form."),
                ),
            )
        ]

    def matches(self, value, touchpoint):
        if touchpoint.kind != "form_submitted":
            return False
        form = value.get("form")
        return not form or prop(touchpoint, "form") == form


@register_trigger
class TagAdded(TriggerType):
    name = "tag_added"
    label = _("Tag added")

    def fields(self):
        return [("tag", blocks.CharBlock(max_length=100, label=_("Tag")))]

    def matches(self, value, touchpoint):
        tag = (value.get("tag") or "").strip().casefold()
        return (
            touchpoint.kind == "tag_added"
            and bool(tag)
            and str(prop(touchpoint, "tag") or "").casefold() == tag
        )


@register_trigger
class SegmentEntered(TriggerType):
    name = "segment_entered"
    label = _("Entered a segment")

    def fields(self):
        return [("segment", blocks.ChoiceBlock(choices=_segment_choices, label=_("Segment")))]

    def matches(self, value, touchpoint):
        return touchpoint.kind == "segment_entered" and str(prop(touchpoint, "segment")) == str(
            value.get("segment")
        )


@register_trigger
class StageReached(TriggerType):
    name = "stage_reached"
    label = _("Lifecycle stage reached")

    def fields(self):
        return [("stage", blocks.ChoiceBlock(choices=_stage_choices, label=_("Stage")))]

    def matches(self, value, touchpoint):
        return touchpoint.kind == "stage_changed" and prop(touchpoint, "to") == value.get("stage")


@register_trigger
class ScoreCrossed(TriggerType):
    name = "score_crossed"
    label = _("Score crossed a threshold")

    def fields(self):
        return [
            ("threshold", blocks.IntegerBlock(label=_("Threshold"))),
            (
                "direction",
                blocks.ChoiceBlock(
                    choices=[("up", _("upwards")), ("down", _("downwards"))],
                    default="up",
                    label=_("Direction"),
                ),
            ),
        ]

    def matches(self, value, touchpoint):
        if touchpoint.kind != "score_changed":
            return False
        score, delta = _number(prop(touchpoint, "score")), _number(prop(touchpoint, "delta"))
        threshold = _number(value.get("threshold"))
        if score is None or delta is None or threshold is None:
            return False
        before = score - delta
        if value.get("direction") == "down":
            return before >= threshold > score
        return before < threshold <= score


@register_trigger
class Event(TriggerType):
    name = "event"
    label = _("An event (touchpoint kind)")

    def fields(self):
        return [("kind", kind_block(label=_("Kind"))), ("filters", filters_block())]

    def matches(self, value, touchpoint):
        return touchpoint.kind == value.get("kind") and filters_match(
            value.get("filters"), touchpoint.properties
        )

    def describe(self, value):
        from wagtail_journey.kinds import kind_label

        return f"{self.label}: {kind_label(value.get('kind') or '')}"


@register_trigger
class Abandonment(TriggerType):
    """X happened and Y did not follow within N: the contact enters at X and
    waits N; the first step runs only if no Y came meanwhile (engine.py)."""

    name = "abandonment"
    label = _("Abandonment: an event not followed by another")
    goal = False

    def fields(self):
        return [
            ("kind", kind_block(label=_("When this happens"))),
            ("filters", filters_block()),
            ("unless", kind_block(label=_("and this does not follow"))),
            ("within", duration_block(_("within"), default_unit="hours")),
        ]

    def matches(self, value, touchpoint):
        return touchpoint.kind == value.get("kind") and filters_match(
            value.get("filters"), touchpoint.properties
        )

    def hold(self, value):
        return duration(value.get("within"))


@register_trigger
class DateBased(TriggerType):
    """N days after a date of the contact's; enrolled by the schedule (reactions.py)."""

    name = "date"
    label = _("A number of days after a date")
    goal = False

    def fields(self):
        return [
            (
                "source",
                blocks.ChoiceBlock(
                    choices=[
                        ("signup", _("the contact was created (signup)")),
                        ("last_order", _("the last order")),
                        ("last_activity", _("the last activity")),
                    ],
                    default="last_order",
                    label=_("Date"),
                ),
            ),
            ("days", blocks.IntegerBlock(min_value=0, default=30, label=_("Days after"))),
        ]


@register_trigger
class Manual(TriggerType):
    name = "manual"
    label = _("Manual enrolment only")
    goal = False
