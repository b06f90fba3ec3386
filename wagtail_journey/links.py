"""Absolute URLs for links that leave the site (emails), built from configuration.

A link in an email must point at the site the operator configured, never at
whatever the request that triggered it claimed to be: the ``Host`` header is
chosen by the client, so a link built from it (``request.build_absolute_uri``)
lets anyone who can submit a form send confirmation links to their own server
(host-header poisoning). Every public link the package builds goes through
:func:`public_url`::

    from wagtail_journey.links import public_url
    url = public_url(reverse("wagtail_journey:confirm", args=[token]))

Email rendering and click tracking use the same root (:func:`absolute_url`,
:func:`site_root_url`). The root URL is, first found:
``WAGTAIL_JOURNEY["PUBLIC_BASE_URL"]``, Wagtail's ``WAGTAILADMIN_BASE_URL``
(the root Wagtail's own notification emails use), then the default Wagtail
``Site``'s ``root_url`` (docs/settings.md; system check W020 warns when neither
setting is set).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from wagtail_journey.conf import journey_settings


def configured_root() -> str | None:
    """The root URL from the settings (no database query), or None when unset."""
    return journey_settings.PUBLIC_BASE_URL or getattr(settings, "WAGTAILADMIN_BASE_URL", None)


def site_root_url() -> str:
    """The configured root URL of the site, without a trailing slash."""
    root = configured_root()
    if not root:
        from wagtail.models import Site

        site = Site.objects.filter(is_default_site=True).first()
        if site is None:
            raise ImproperlyConfigured(
                "wagtail_journey cannot build public links: set "
                'WAGTAIL_JOURNEY["PUBLIC_BASE_URL"] or WAGTAILADMIN_BASE_URL.'
            )
        root = site.root_url
    return root.rstrip("/")


def public_url(path: str) -> str:
    """The absolute URL of ``path`` (e.g. a ``reverse()`` result) on the configured site.

    ``path`` must be a path on this site; an absolute URL or a scheme-relative
    ``//host`` path is refused (ValueError), so a link can never point elsewhere.
    """
    parts = urlsplit(path)
    if parts.scheme or parts.netloc or not path.startswith("/"):
        raise ValueError(f"public_url() takes a path starting with '/', not {path!r}")
    return site_root_url() + path


def absolute_url(path_or_url: str) -> str:
    """``path_or_url`` made absolute on the configured site; a full URL is returned unchanged.

    For links an editor wrote into an email (which may point at another site);
    links the package makes itself use :func:`public_url`, which refuses those.
    """
    if path_or_url.startswith("/") and not path_or_url.startswith("//"):
        return site_root_url() + path_or_url
    return path_or_url


def is_valid_root(value: object) -> bool:
    """True for an absolute http(s) URL with a host and no query or fragment."""
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and not parts.query
        and not parts.fragment
    )
