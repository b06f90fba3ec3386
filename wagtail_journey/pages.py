"""LandingPage and the mixin that lets any page receive its form blocks' POSTs.

Wagtail 8 makes the Page model swappable; page types are shipped as an
abstract mixin plus a concrete class, as ``wagtail.contrib.forms`` does.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin.panels import FieldPanel
from wagtail.fields import StreamField
from wagtail.models import Page

from wagtail_journey.blocks import FormBlock, landing_blocks
from wagtail_journey.conf import journey_settings
from wagtail_journey.forms import build_form
from wagtail_journey.ratelimit import client_ip, hit
from wagtail_journey.submissions import process_submission


def find_form_blocks(page: Page) -> dict[str, Any]:
    """{block id: FormBlock value} for top-level form blocks in the page's StreamFields."""
    found: dict[str, Any] = {}
    for field in page._meta.get_fields():
        if isinstance(field, StreamField):
            for child in getattr(page, field.name) or []:
                if isinstance(child.block, FormBlock):
                    found[child.id] = child.value
    return found


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


def _can_hold_forms(model) -> bool:
    return any(
        isinstance(field, StreamField)
        and any(isinstance(b, FormBlock) for b in field.stream_block.child_blocks.values())
        for field in model._meta.get_fields()
    )


class JourneyFormMixin:
    """Handle POSTs of the page's form blocks; mix into any Page subclass.

    Pages with a form are sent ``Cache-Control: private`` so a shared cache never
    hands one visitor another's CSRF token or answers (docs/landing-pages.md).
    """

    def serve(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "POST" and "wj_form" in request.POST:
            return self.serve_form_post(request, *args, **kwargs)
        response = super().serve(request, *args, **kwargs)
        if find_form_blocks(self):
            patch_cache_control(response, private=True, no_cache=True)
            patch_vary_headers(response, ["Cookie"])
        return response

    def serve_form_post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        block_id = request.POST.get("wj_form", "")[:64]
        forms = find_form_blocks(self)
        value = forms.get(block_id)
        if value is None:
            # The editor removed this form while the visitor had it open.
            context = self.get_context(request, *args, **kwargs)
            context["journey_form_gone"] = True
            return self._render(request, context, status=410)
        form = build_form(value, block_id, data=request.POST, request=request)
        limit, window = journey_settings.FORM_RATE_LIMIT
        if not hit("form", client_ip(request), limit, window):
            form.is_valid()
            form.add_error(
                None, _("Too many submissions from your network. Please try again later.")
            )
            status = 429
        elif form.is_valid() and self._process(request, block_id, form):
            redirect_page = value.get("redirect_page")
            if redirect_page is not None:
                messages.success(request, _("Thank you, your submission was received."))
                return HttpResponseRedirect(redirect_page.url)
            context = self.get_context(request, *args, **kwargs)
            context["journey_form_success"] = {block_id}
            return self._render(request, context)
        else:
            status = 400
        form.refresh_token()
        context = self.get_context(request, *args, **kwargs)
        context["journey_forms"] = {block_id: form}
        return self._render(request, context, status=status)

    def _process(self, request: HttpRequest, block_id: str, form: Any) -> bool:
        """Store the submission; a late ValidationError becomes the form's error (nothing stored).

        The form validates what it can see; rules that need the database or the
        normalised address (identity.clean_email) may still refuse here, and the
        visitor must get their form back with a message, not a server error.
        """
        try:
            process_submission(request, self, block_id, form)
        except ValidationError as exc:
            form.add_error(None, exc)
            return False
        return True

    def _render(self, request: HttpRequest, context: dict, status: int = 200) -> HttpResponse:
        response = TemplateResponse(request, self.get_template(request), context, status=status)
        patch_cache_control(response, private=True, no_cache=True)
        return response


class AbstractLandingPage(JourneyFormMixin, Page):
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
