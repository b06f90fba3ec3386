"""The baseline site's ``wagtail_journey.blocks``: a form block that renders nothing.

The demo's StoryPage offers wagtail_journey's form block in its StreamField,
so ``demo/models.py`` imports ``wagtail_journey.blocks``; the baseline site
has no wagtail_journey app whose models that import would load. The baseline
installs :class:`BaselineStubConfig`: Django imports this module while it
loads the app configs, before any model, and this module then stands in for
``wagtail_journey.blocks``, so the demo's models load without the package.
No page the page-view benchmark requests holds a form block (pages of the
package's own types, which do, are left out), so nothing it measures
renders this stub.
"""

import sys

from django.apps import AppConfig
from wagtail import blocks


class FormBlock(blocks.StructBlock):
    """Stands in for wagtail_journey's form block in the demo's page models."""

    def render(self, value, context=None):
        return ""


class FormFieldBlock(blocks.StructBlock):
    """Stands in for wagtail_journey's form field block."""


class BaselineStubConfig(AppConfig):
    """Loads this module before the models (bench/settings_baseline.py installs it)."""

    name = "bench"
    label = "bench_baseline_stub"


sys.modules.setdefault("wagtail_journey.blocks", sys.modules[__name__])
