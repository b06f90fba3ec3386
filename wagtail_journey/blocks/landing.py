"""Content blocks editors need on a landing page: hero, text, image, features,
testimonial, call to action."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.images.blocks import ImageChooserBlock

from wagtail_journey.blocks.optional import OptionalStructBlock, is_blank


class LinkBlock(OptionalStructBlock):
    """A link to a page or a URL; exactly one of the two.

    Optional where it is declared with ``required=False`` (the hero's button): left
    blank, it renders nothing.
    """

    label = blocks.CharBlock(label=_("Label"), max_length=80)
    page = blocks.PageChooserBlock(label=_("Page"), required=False)
    url = blocks.URLBlock(label=_("or URL"), required=False)

    class Meta:
        icon = "link"
        label = _("Link")

    def clean(self, value):
        value = super().clean(value)
        if not self.required and is_blank(self, value):
            return value
        if bool(value.get("page")) == bool(value.get("url")):
            raise blocks.StructBlockValidationError(
                block_errors={"page": ValidationError(_("Choose a page or enter a URL."))}
            )
        return value


class CallToActionBlock(LinkBlock):
    style = blocks.ChoiceBlock(
        label=_("Style"),
        choices=[("primary", _("Primary")), ("secondary", _("Secondary"))],
        default="primary",
    )

    class Meta:
        icon = "pick"
        label = _("Call to action button")
        template = "wagtail_journey/blocks/cta.html"


class HeroBlock(blocks.StructBlock):
    heading = blocks.CharBlock(label=_("Heading"), max_length=120)
    text = blocks.TextBlock(label=_("Text"), required=False)
    image = ImageChooserBlock(label=_("Image"), required=False)
    cta = CallToActionBlock(label=_("Call to action"), required=False)

    class Meta:
        icon = "image"
        label = _("Hero")
        template = "wagtail_journey/blocks/hero.html"


class RichTextBlock(blocks.RichTextBlock):
    class Meta:
        icon = "pilcrow"
        label = _("Rich text")
        template = "wagtail_journey/blocks/rich_text.html"


class ImageTextBlock(blocks.StructBlock):
    image = ImageChooserBlock(label=_("Image"))
    text = blocks.RichTextBlock(label=_("Text"))
    image_position = blocks.ChoiceBlock(
        label=_("Image position"),
        choices=[("left", _("Left")), ("right", _("Right"))],
        default="left",
    )

    class Meta:
        icon = "doc-full"
        label = _("Image with text")
        template = "wagtail_journey/blocks/image_text.html"


class FeatureBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("Title"), max_length=80)
    text = blocks.TextBlock(label=_("Text"), required=False)


class FeatureListBlock(blocks.StructBlock):
    heading = blocks.CharBlock(label=_("Heading"), required=False, max_length=120)
    features = blocks.ListBlock(FeatureBlock(), label=_("Features"), min_num=1)

    class Meta:
        icon = "list-ul"
        label = _("Feature / benefit list")
        template = "wagtail_journey/blocks/features.html"


class TestimonialBlock(blocks.StructBlock):
    quote = blocks.TextBlock(label=_("Quote"))
    name = blocks.CharBlock(label=_("Name"), max_length=120)
    role = blocks.CharBlock(label=_("Role or company"), required=False, max_length=120)
    image = ImageChooserBlock(label=_("Photo"), required=False)

    class Meta:
        icon = "openquote"
        label = _("Testimonial")
        template = "wagtail_journey/blocks/testimonial.html"
