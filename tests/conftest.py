"""Shared fixtures. Tests use real parts: the database, django-q2, anymail's test backend."""

from __future__ import annotations

import pytest
from wagtail.models import Page, Site

from demo.models import ArticlePage, HomePage


def _root_page() -> Page:
    """Wagtail's root page; recreated when a transactional test flushed the database."""
    from wagtail.models import Locale

    root = Page.get_first_root_node()
    if root is None:
        Locale.objects.get_or_create(language_code="en")
        root = Page.add_root(title="Root", slug="root")
    return root


@pytest.fixture
def home_page(db) -> HomePage:
    root = _root_page()
    home = HomePage(title="Home", slug="test-home")
    root.add_child(instance=home)
    home.save_revision().publish()
    Site.objects.update_or_create(
        is_default_site=True,
        defaults={"hostname": "testserver", "port": 80, "root_page": home},
    )
    return home


@pytest.fixture
def article(home_page) -> ArticlePage:
    page = ArticlePage(title="Article", slug="article", summary="About things")
    home_page.add_child(instance=page)
    page.save_revision().publish()
    return page


@pytest.fixture
def clean_reactions():
    """Restore the reaction registry after a test registers its own."""
    from wagtail_journey import events

    saved = dict(events._registry)
    yield events
    events._registry.clear()
    events._registry.update(saved)


@pytest.fixture(autouse=True)
def _fresh_caches():
    """Rate-limit counters and cached salts live in the cache: start every test clean."""
    from django.core.cache import caches

    for cache in caches.all(initialized_only=True):
        cache.clear()
    yield
