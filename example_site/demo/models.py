"""The example site's own page types."""

from django.db import models
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField
from wagtail.models import Page


class HomePage(Page):
    intro = RichTextField(blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro")]

    class Meta:
        verbose_name = "home page"


class ArticlePage(Page):
    body = RichTextField(blank=True)
    summary = models.CharField(max_length=255, blank=True)

    content_panels = [*Page.content_panels, FieldPanel("summary"), FieldPanel("body")]
