"""System checks for how a site installed the package: where its form blocks
sit, and which caches its rate limits and tracking buffer rely on.

Ids W050-W054 (listed in docs/settings.md); registered by apps.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.checks import Tags, Warning, register

from wagtail_journey.conf import journey_settings

#: Cache backends that keep their data in one process only.
PER_PROCESS_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)


def _nested_form_blocks(block: Any, path: str) -> Iterator[str]:
    """Paths of FormBlocks anywhere below ``block`` (not ``block`` itself)."""
    from wagtail_journey.blocks.form import FormBlock

    children = dict(getattr(block, "child_blocks", None) or {})
    child = getattr(block, "child_block", None)  # ListBlock
    if child is not None:
        children["item"] = child
    for name, sub in children.items():
        if isinstance(sub, FormBlock):
            yield f"{path}.{name}"
        else:
            yield from _nested_form_blocks(sub, f"{path}.{name}")


@register(Tags.models)
def check_form_block_placement(app_configs: Any = None, **kwargs: Any) -> list:
    return form_block_warnings(apps.get_models())


def form_block_warnings(models: Any) -> list:
    """A form block posts to its page as a top-level StreamField child of a page type."""
    from wagtail.fields import StreamField
    from wagtail.models import Page

    from wagtail_journey.blocks.form import FormBlock

    warnings = []
    for model in models:
        if model._meta.abstract or model._meta.proxy:
            continue
        is_page = issubclass(model, Page)
        for field in model._meta.get_fields():
            if not isinstance(field, StreamField):
                continue
            where = f"{model._meta.label}.{field.name}"
            top = [
                n for n, b in field.stream_block.child_blocks.items() if isinstance(b, FormBlock)
            ]
            for name, block in field.stream_block.child_blocks.items():
                for path in _nested_form_blocks(block, name):
                    warnings.append(
                        Warning(
                            f"{where} holds a form block inside another block ({path}); "
                            "its submissions cannot be received.",
                            hint="Put FormBlock directly in the StreamField's list of blocks.",
                            obj=model,
                            id="wagtail_journey.W050",
                        )
                    )
            if top and not is_page:
                warnings.append(
                    Warning(
                        f"{where} offers a form block, but {model.__name__} is not a page: "
                        "a form block posts to the page that shows it.",
                        hint="Use form blocks in page types' StreamFields only.",
                        obj=model,
                        id="wagtail_journey.W051",
                    )
                )
            methods = {str(m).upper() for m in getattr(model, "allowed_http_methods", ["POST"])}
            if top and is_page and "POST" not in methods:
                warnings.append(
                    Warning(
                        f"{model._meta.label} has form blocks but does not accept POST "
                        "(allowed_http_methods).",
                        hint="Add HTTPMethod.POST to the page type's allowed_http_methods.",
                        obj=model,
                        id="wagtail_journey.W052",
                    )
                )
    return warnings


def _journey_cache_aliases() -> dict[str, str]:
    aliases = {journey_settings.RATE_LIMIT_CACHE: "RATE_LIMIT_CACHE"}
    if journey_settings.TRACKING_BUFFER:
        aliases.setdefault(journey_settings.TRACKING_BUFFER, "TRACKING_BUFFER")
    return aliases


@register(Tags.caches)
def check_journey_caches(app_configs: Any = None, **kwargs: Any) -> list:
    caches = getattr(settings, "CACHES", {})
    warnings = []
    for alias, key in _journey_cache_aliases().items():
        config = caches.get(alias)
        if not config:
            continue  # E008 / E013 say so
        backend = config.get("BACKEND", "")
        if backend in PER_PROCESS_CACHES and key == "RATE_LIMIT_CACHE":
            warnings.append(
                Warning(
                    f"WAGTAIL_JOURNEY['RATE_LIMIT_CACHE'] is {alias!r}, a cache each process "
                    f"keeps for itself ({backend.rsplit('.', 1)[-1]}): with several web "
                    "processes, rate limits, replay protection and unique-visitor counts "
                    "are not shared.",
                    hint="Use Redis, Memcached or Django's database cache (docs/installation.md); "
                    "with one process only, silence this check.",
                    id="wagtail_journey.W053",
                )
            )
        options = config.get("OPTIONS") or {}
        if backend.startswith("django_redis.") and (
            options.get("IGNORE_EXCEPTIONS")
            or getattr(settings, "DJANGO_REDIS_IGNORE_EXCEPTIONS", False)
        ):
            warnings.append(
                Warning(
                    f"The cache {alias!r} ({key}) swallows errors (django-redis "
                    "IGNORE_EXCEPTIONS): while Redis is down it answers every call with "
                    "nothing, so limits and the buffer cannot tell failure from success.",
                    hint="Give wagtail_journey a cache alias without IGNORE_EXCEPTIONS; it "
                    "handles Redis errors itself (counts in the database, stores directly).",
                    id="wagtail_journey.W054",
                )
            )
    return warnings
