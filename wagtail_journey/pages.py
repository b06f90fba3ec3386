"""LandingPage: a campaign page built from the landing blocks.

Its form blocks need nothing from the page type: ``serving.serve_forms``
receives form POSTs for every page. Wagtail 8 makes the Page model swappable;
page types are shipped as an abstract class plus a concrete one, as
``wagtail.contrib.forms`` does.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext_lazy
from wagtail.admin.panels import FieldPanel
from wagtail.fields import StreamField
from wagtail.models import Page

from wagtail_journey.blocks import FormBlock, landing_blocks
from wagtail_journey.serving import find_form_blocks


def site_forms() -> list[tuple[Page, str, str]]:
    """Every form block on the site as (page, block id, form name), by page
    title: pages of any type whose StreamFields can hold a form block, plus
    pages that received submissions (a form since removed keeps its name)."""
    from wagtail.models import get_page_models

    from wagtail_journey.models import FormSubmission

    found: dict[str, tuple[Page, str, str]] = {}
    for model in get_page_models():
        if model._meta.abstract or not _can_hold_forms(model):
            continue
        for page in model.objects.all():
            for block_id, value in find_form_blocks(page).items():
                found[block_id] = (page, block_id, value["name"])
    removed: dict[str, tuple[int, str]] = {}
    for page_id, key, name in (
        FormSubmission.objects.filter(page__isnull=False)
        .exclude(form_key__in=list(found))
        .order_by()
        .values_list("page", "form_key", "form_name")
        .distinct()
    ):
        removed.setdefault(key, (page_id, name))
    pages = Page.objects.in_bulk({page_id for page_id, _name in removed.values()})
    for key, (page_id, name) in removed.items():
        if page_id in pages:
            found[key] = (pages[page_id], key, name)
    return sorted(found.values(), key=lambda item: (item[0].title.lower(), item[2].lower()))


def form_field_names(forms: Iterable[tuple[int, str]]) -> list[str]:
    """The field names of these (page id, block id) forms, in the order the
    forms define them (as submissions store them: their export columns)."""
    from wagtail_journey.blocks.form import field_name

    wanted: dict[int, set[str]] = {}
    for page_id, key in forms:
        wanted.setdefault(page_id, set()).add(key)
    names: dict[str, None] = {}
    for page in Page.objects.filter(pk__in=list(wanted)).specific():
        for key, value in find_form_blocks(page).items():
            if key in wanted[page.pk]:
                names.update(dict.fromkeys(field_name(f) for f in value["fields"]))
    return list(names)


def form_page_types() -> list[type[Page]]:
    """Every concrete page type whose StreamFields can hold a form block."""
    from wagtail.models import get_page_models

    return [m for m in get_page_models() if not m._meta.abstract and _can_hold_forms(m)]


def _can_hold_forms(model) -> bool:
    return any(
        isinstance(field, StreamField)
        and any(isinstance(b, FormBlock) for b in field.stream_block.child_blocks.values())
        for field in model._meta.get_fields()
    )


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
