"""StreamField blocks for landing pages; usable in any page's StreamField.

``LANDING_BLOCKS`` is the list a developer can splice into their own
StreamField (see docs/editor-guide.md and docs/landing-pages.md).
"""

from wagtail_journey.blocks.form import FormBlock, FormFieldBlock
from wagtail_journey.blocks.landing import (
    CallToActionBlock,
    FeatureListBlock,
    HeroBlock,
    ImageTextBlock,
    TestimonialBlock,
)
from wagtail_journey.blocks.landing import RichTextBlock as JourneyRichTextBlock


def landing_blocks() -> list[tuple[str, object]]:
    """Fresh block instances for a StreamField (a new list each call)."""
    return [
        ("hero", HeroBlock()),
        ("rich_text", JourneyRichTextBlock()),
        ("image_text", ImageTextBlock()),
        ("features", FeatureListBlock()),
        ("testimonial", TestimonialBlock()),
        ("cta", CallToActionBlock()),
        ("form", FormBlock()),
    ]


__all__ = [
    "CallToActionBlock",
    "FeatureListBlock",
    "FormBlock",
    "FormFieldBlock",
    "HeroBlock",
    "ImageTextBlock",
    "JourneyRichTextBlock",
    "TestimonialBlock",
    "landing_blocks",
]
