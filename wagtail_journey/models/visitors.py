"""Visitor: an anonymous browser, known by a random id in a first-party cookie."""

from __future__ import annotations

import secrets

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def new_visitor_key() -> str:
    """A random, unguessable cookie value (no fingerprinting: nothing derived from the device)."""
    return secrets.token_urlsafe(16)


class Visitor(models.Model):
    """One browser. Linked to a Contact once identified; its earlier touchpoints
    then belong to that contact (see identity.identify_visitor)."""

    key = models.CharField(_("cookie id"), max_length=32, unique=True, default=new_visitor_key)
    contact = models.ForeignKey(
        "wagtail_journey.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="visitors",
    )
    # Exempt-mode visitor without analytics consent: counted for audience
    # statistics only; never stitched to a contact, scored or segmented.
    audience_only = models.BooleanField(_("audience statistics only"), default=False)
    # When the visitor granted analytics consent (None: never, or withdrawn).
    consented_at = models.DateTimeField(_("analytics consent given"), null=True, blank=True)
    created_at = models.DateTimeField(_("first seen"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("last seen"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("visitor")
        verbose_name_plural = _("visitors")

    def __str__(self) -> str:
        return self.key
