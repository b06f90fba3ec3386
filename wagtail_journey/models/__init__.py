"""Models, one module per concept; import from here."""

from wagtail_journey.models.contacts import Contact, JourneyStage, TaggedContact
from wagtail_journey.models.scoring import LifecycleTransition, ScoreChange, ScoringRule
from wagtail_journey.models.segments import Segment, SegmentMembership
from wagtail_journey.models.touchpoints import Touchpoint
from wagtail_journey.models.visitors import Visitor

__all__ = [
    "Contact",
    "JourneyStage",
    "LifecycleTransition",
    "ScoreChange",
    "ScoringRule",
    "Segment",
    "SegmentMembership",
    "TaggedContact",
    "Touchpoint",
    "Visitor",
]
