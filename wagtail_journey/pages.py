"""LandingPage: a campaign page built from the landing blocks.

Its form blocks need nothing from the page type: ``serving.serve_forms``
receives form POSTs for every page. Wagtail 8 makes the Page model swappable;
page types are shipped as an abstract class plus a concrete one, as
``wagtail.contrib.forms`` does.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy
from wagtail.admin.panels import FieldPanel
from wagtail.fields import StreamField
from wagtail.models import Page

from wagtail_journey.blocks import landing_blocks


class AbstractLandingPage(Page):
    """A campaign page built from landing blocks, forms included."""

    body = StreamField(landing_blocks(), blank=True, verbose_name=gettext_lazy("body"))

    content_panels = [*Page.content_panels, FieldPanel("body")]
    template = "wagtail_journey/landing_page.html"

    class Meta:
        abstract = True


class LandingPage(AbstractLandingPage):
    class Meta:
        verbose_name = gettext_lazy("landing page")
        verbose_name_plural = gettext_lazy("landing pages")
