"""The example site's own page types."""

from django.db import models
from wagtail import blocks
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page

from wagtail_journey.blocks import FormBlock


class HomePage(Page):
    intro = RichTextField(blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro")]

    class Meta:
        verbose_name = "home page"


class ArticlePage(Page):
    body = RichTextField(blank=True)
    summary = models.CharField(max_length=255, blank=True)

    content_panels = [*Page.content_panels, FieldPanel("summary"), FieldPanel("body")]


class StoryPage(Page):
    """A site's own page type holding a form block, rendered with ``{{ page.body }}``.

    No mixin: form blocks work in any page type (docs/landing-pages.md).
    """

    body = StreamField([("text", blocks.RichTextBlock()), ("form", FormBlock())], blank=True)

    content_panels = [*Page.content_panels, FieldPanel("body")]
