"""StreamField blocks of an email body.

Each block stores content only; emails.rendering turns it into MJML (the
layout that mail clients understand) and a plain-text part. Text blocks
accept merge tags and refuse unknown ones when the editor saves.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.images.blocks import ImageChooserBlock

from wagtail_journey.emails import merge_tags

ALIGN_CHOICES = [("left", _("Left")), ("center", _("Centre")), ("right", _("Right"))]
RICH_TEXT_FEATURES = ["bold", "italic", "link", "ol", "ul"]


class MergeTextBlock(blocks.CharBlock):
    """One line of text that may hold merge tags."""

    def clean(self, value):
        value = super().clean(value)
        merge_tags.validate(value)
        return value


class MergeRichTextBlock(blocks.RichTextBlock):
    """Rich text that may hold merge tags."""

    def __init__(self, **kwargs):
        kwargs.setdefault("features", RICH_TEXT_FEATURES)
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        merge_tags.validate(value.source if value is not None else "", is_html=True)
        return value


class HeadingBlock(blocks.StructBlock):
    text = MergeTextBlock(label=_("Text"), max_length=200)
    size = blocks.ChoiceBlock(
        choices=[("h1", _("Large")), ("h2", _("Medium")), ("h3", _("Small"))],
        default="h1",
        label=_("Size"),
    )
    align = blocks.ChoiceBlock(choices=ALIGN_CHOICES, default="left", label=_("Alignment"))

    class Meta:
        icon = "title"
        label = _("Heading")


class ImageBlock(blocks.StructBlock):
    image = ImageChooserBlock(label=_("Image"))
    alt = blocks.CharBlock(
        label=_("Alternative text"),
        required=False,
        max_length=200,
        help_text=_("What the image shows, for readers whose mail client hides images."),
    )
    link = blocks.URLBlock(label=_("Link"), required=False)

    class Meta:
        icon = "image"
        label = _("Image")


class ButtonBlock(blocks.StructBlock):
    label = MergeTextBlock(label=_("Label"), max_length=80)
    url = blocks.URLBlock(label=_("Link"))
    align = blocks.ChoiceBlock(choices=ALIGN_CHOICES, default="center", label=_("Alignment"))

    class Meta:
        icon = "link"
        label = _("Button")


class DividerBlock(blocks.StaticBlock):
    class Meta:
        icon = "horizontalrule"
        label = _("Divider")
        admin_text = _("A horizontal line.")


class CardBlock(blocks.StructBlock):
    """A product or an offer: picture, title, text, price and a button."""

    image = ImageChooserBlock(label=_("Image"), required=False)
    title = MergeTextBlock(label=_("Title"), max_length=120)
    text = MergeRichTextBlock(label=_("Text"), required=False)
    price = blocks.CharBlock(label=_("Price or offer"), required=False, max_length=40)
    button_label = MergeTextBlock(label=_("Button label"), required=False, max_length=80)
    button_url = blocks.URLBlock(label=_("Button link"), required=False)

    class Meta:
        icon = "tag"
        label = _("Product or offer card")


def column_blocks() -> list[tuple[str, blocks.Block]]:
    return [
        ("heading", HeadingBlock()),
        ("paragraph", MergeRichTextBlock(label=_("Paragraph"))),
        ("image", ImageBlock()),
        ("button", ButtonBlock()),
        ("card", CardBlock()),
    ]


class TwoColumnsBlock(blocks.StructBlock):
    """Side by side on wide screens, one above the other on phones."""

    left = blocks.StreamBlock(column_blocks(), label=_("Left column"))
    right = blocks.StreamBlock(column_blocks(), label=_("Right column"))

    class Meta:
        icon = "doc-full"
        label = _("Two columns")


class FooterBlock(blocks.StructBlock):
    text = MergeRichTextBlock(label=_("Text"), required=False)
    address = blocks.TextBlock(
        label=_("Sender's postal address"),
        help_text=_("Required by anti-spam laws in many countries (e.g. CAN-SPAM)."),
    )

    class Meta:
        icon = "placeholder"
        label = _("Footer")


def email_body_block() -> blocks.StreamBlock:
    return blocks.StreamBlock(
        [
            ("heading", HeadingBlock()),
            ("paragraph", MergeRichTextBlock(label=_("Paragraph"))),
            ("image", ImageBlock()),
            ("button", ButtonBlock()),
            ("divider", DividerBlock()),
            ("two_columns", TwoColumnsBlock()),
            ("card", CardBlock()),
            ("footer", FooterBlock()),
        ]
    )
