"""Models, one module per concept; import from here."""

from wagtail_journey.models.contacts import Contact, JourneyStage, TaggedContact
from wagtail_journey.models.touchpoints import DeviceClass, Touchpoint
from wagtail_journey.models.tracking import DailyPageStat, PageJourneyStage
from wagtail_journey.models.visitors import Visitor

__all__ = [
    "Contact",
    "DailyPageStat",
    "DeviceClass",
    "JourneyStage",
    "PageJourneyStage",
    "TaggedContact",
    "Touchpoint",
    "Visitor",
]
