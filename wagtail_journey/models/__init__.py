"""Models, one module per concept; import from here."""

from wagtail_journey.models.contacts import Contact, JourneyStage, TaggedContact
from wagtail_journey.models.touchpoints import Touchpoint
from wagtail_journey.models.visitors import Visitor

__all__ = ["Contact", "JourneyStage", "TaggedContact", "Touchpoint", "Visitor"]
