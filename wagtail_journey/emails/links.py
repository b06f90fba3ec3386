"""Absolute URLs in emails, built from the site's configured root URL.

An email is read far from any request, and a link built from a request's Host
header could point anywhere the sender of that request chose. Every link the
email code makes (click redirects, images, page links, unsubscribe) goes
through :func:`absolute_url`, which reads ``WAGTAILADMIN_BASE_URL``; when the
package gains one public-URL function for every feature, this is the one line
to switch.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def root_url() -> str:
    """The site's configured root URL, without a trailing slash."""
    base = (getattr(settings, "WAGTAILADMIN_BASE_URL", "") or "").rstrip("/")
    if not base.startswith(("https://", "http://")):
        raise ImproperlyConfigured(
            "WAGTAILADMIN_BASE_URL must be set to the site's public URL (https://...) "
            "for links in emails."
        )
    return base


def absolute_url(path_or_url: str) -> str:
    """``path_or_url`` made absolute against :func:`root_url` (full URLs unchanged)."""
    if path_or_url.startswith("/") and not path_or_url.startswith("//"):
        return root_url() + path_or_url
    return path_or_url
