"""System checks for cases a site's installation cannot make work."""

from http import HTTPMethod

from django.db import models
from django.test.utils import isolate_apps
from wagtail import blocks
from wagtail.fields import StreamField
from wagtail.models import Page

from wagtail_journey.blocks import FormBlock
from wagtail_journey.install_checks import check_journey_caches, form_block_warnings


def ids(messages) -> list[str]:
    return sorted(m.id for m in messages)


@isolate_apps("demo")
def test_form_blocks_that_cannot_receive_posts_are_reported():
    class Nested(Page):
        body = StreamField(
            [("section", blocks.StructBlock([("form", FormBlock())])), ("ok", FormBlock())]
        )

        class Meta:
            app_label = "demo"

    class Snippetish(models.Model):  # noqa: DJ008
        body = StreamField([("form", FormBlock())])

        class Meta:
            app_label = "demo"

    class NoPost(Page):
        allowed_http_methods = [HTTPMethod.GET, HTTPMethod.HEAD]
        body = StreamField([("form", FormBlock())])

        class Meta:
            app_label = "demo"

    class Fine(Page):
        body = StreamField([("text", blocks.RichTextBlock()), ("form", FormBlock())])

        class Meta:
            app_label = "demo"

    assert ids(form_block_warnings([Nested])) == ["wagtail_journey.W050"]
    assert ids(form_block_warnings([Snippetish])) == ["wagtail_journey.W051"]
    assert ids(form_block_warnings([NoPost])) == ["wagtail_journey.W052"]
    assert form_block_warnings([Fine]) == []


def test_the_demo_and_its_page_types_pass():
    from django.apps import apps

    assert form_block_warnings(apps.get_models()) == []


def test_a_per_process_rate_limit_cache_is_reported(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert ids(check_journey_caches()) == ["wagtail_journey.W053"]
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "c"}
    }
    assert check_journey_caches() == []


def test_a_cache_that_swallows_errors_is_reported(settings):
    redis = {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "c"},
        "journey": {**redis, "OPTIONS": {"IGNORE_EXCEPTIONS": True}},
    }
    settings.WAGTAIL_JOURNEY = {"RATE_LIMIT_CACHE": "journey"}
    assert ids(check_journey_caches()) == ["wagtail_journey.W054"]
    settings.CACHES["journey"] = redis
    assert check_journey_caches() == []
    settings.DJANGO_REDIS_IGNORE_EXCEPTIONS = True
    assert ids(check_journey_caches()) == ["wagtail_journey.W054"]
