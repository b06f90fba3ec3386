"""FormSubmission: what one form block received, with its consent snapshot."""

from __future__ import annotations

import swapper
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class FormSubmission(models.Model):
    # Wagtail's reference index would add queries to every submission for a
    # page link nobody needs to "find usages" of.
    wagtail_reference_index_ignore = True

    page = models.ForeignKey(
        swapper.get_model_name("wagtailcore", "Page"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("page"),
    )
    # The form block's StreamField id: stable across edits and re-ordering.
    form_key = models.CharField(_("form id"), max_length=64)
    form_name = models.CharField(_("form"), max_length=255, blank=True)
    contact = models.ForeignKey(
        "wagtail_journey.Contact",
        on_delete=models.CASCADE,
        related_name="submissions",
        verbose_name=_("contact"),
    )
    visitor = models.ForeignKey(
        "wagtail_journey.Visitor",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("visitor"),
    )
    data = models.JSONField(_("data"), encoder=DjangoJSONEncoder)
    # {purpose key: {"version": n, "action": "granted"|"refused", "text": "..."}}
    consent_snapshot = models.JSONField(_("consents"), default=dict, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(_("submitted"), default=timezone.now)
    # The nonce of the signed render token: one rendered form is stored once,
    # however often the browser sends it (unique; NULL for imported rows).
    render_token = models.CharField(
        _("render token"), max_length=32, null=True, blank=True, unique=True, editable=False
    )

    class Meta:
        verbose_name = _("form submission")
        verbose_name_plural = _("form submissions")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["page", "form_key", "-created_at"], name="wj_submission_form"),
        ]

    def __str__(self) -> str:
        return f"{self.form_name or self.form_key} · {self.contact}"

    @property
    def contact_email(self) -> str:
        return self.contact.email

    def answers_summary(self) -> str:
        """ "name: value" pairs as plain text (escaped wherever it is shown)."""
        return "; ".join(f"{k}: {v}" for k, v in (self.data or {}).items() if v not in ("", None))

    answers_summary.short_description = _("answers")

    def consents_summary(self) -> str:
        return "; ".join(
            f"{key} v{item.get('version')}: {item.get('action')}"
            for key, item in (self.consent_snapshot or {}).items()
        )

    consents_summary.short_description = _("consents")
