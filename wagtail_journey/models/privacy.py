"""Data-subject rights: export files and erasure receipts (docs/privacy.md).

Neither row holds personal data of its own: an export points at its contact
(and goes with it), a receipt names the erased contact only by its opaque id.
"""

from __future__ import annotations

import secrets

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def new_reference() -> str:
    """A random, opaque reference a receipt or an export is known by (no personal data)."""
    return secrets.token_hex(8)


class DataExport(models.Model):
    """One export of a contact's data requested by the contact (or staff for them).

    The file is built by a django-q2 task, linked by a single-use signed token
    in an email, and deleted by the retention schedule once expired or used.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Being prepared")
        READY = "ready", _("Ready to download")
        DOWNLOADED = "downloaded", _("Downloaded")
        EXPIRED = "expired", _("Expired")
        FAILED = "failed", _("Failed")

    contact = models.ForeignKey(
        "wagtail_journey.Contact",
        verbose_name=_("contact"),
        on_delete=models.CASCADE,
        related_name="data_exports",
    )
    reference = models.CharField(
        _("reference"), max_length=32, unique=True, default=new_reference, editable=False
    )
    via = models.CharField(_("requested via"), max_length=32)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    # Name of the file in the export storage (random; never the address).
    file_name = models.CharField(_("file"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("requested"), default=timezone.now)
    ready_at = models.DateTimeField(_("ready"), null=True, blank=True)
    expires_at = models.DateTimeField(_("link expires"), null=True, blank=True)
    downloaded_at = models.DateTimeField(_("downloaded"), null=True, blank=True)

    class Meta:
        verbose_name = _("data export")
        verbose_name_plural = _("data exports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return str(_("Data export %(ref)s")) % {"ref": self.reference}


class ErasureReceipt(models.Model):
    """Proof that a contact's personal data was erased, holding none of it.

    ``contact_ref`` is the id of the anonymous shell left behind; ``counts``
    says how many rows each table lost or had emptied.
    """

    reference = models.CharField(
        _("reference"), max_length=32, unique=True, default=new_reference, editable=False
    )
    contact_ref = models.PositiveBigIntegerField(_("contact id"))
    requested_by = models.CharField(_("requested by"), max_length=64)
    erased_at = models.DateTimeField(_("erased"), default=timezone.now)
    counts = models.JSONField(_("rows per table"), default=dict)

    class Meta:
        verbose_name = _("erasure receipt")
        verbose_name_plural = _("erasure receipts")
        ordering = ["-erased_at"]

    def __str__(self) -> str:
        return str(_("Erasure receipt %(ref)s")) % {"ref": self.reference}
