"""Consent: what a visitor was asked (a versioned purpose) and what they answered.

GDPR Art. 7(1) asks the controller to *demonstrate* consent. A ConsentRecord
therefore keeps the exact text the visitor saw (not just a pointer to text an
editor may change later), when, where and how it was given, and proof fields.
"""

from __future__ import annotations

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, HelpPanel
from wagtail.fields import RichTextField


class ConsentPurpose(models.Model):
    """One thing a visitor may consent to ("marketing emails", "privacy policy").

    Editing the text (or what it implies: required, double opt-in) creates a new
    ConsentPurposeVersion; earlier records keep pointing at the version they saw.
    """

    name = models.CharField(_("name"), max_length=100)
    key = models.SlugField(
        _("key"),
        max_length=50,
        unique=True,
        help_text=_("Used by code and flows, e.g. 'marketing'. Do not change once in use."),
    )
    text = RichTextField(
        _("checkbox text"),
        features=["bold", "italic", "link"],
        help_text=_(
            "What the visitor reads next to the checkbox. Link to your privacy policy page."
        ),
    )
    required = models.BooleanField(
        _("required"),
        default=False,
        help_text=_(
            "A required purpose (e.g. accepting the privacy policy) blocks the form when "
            "unticked. An optional one records the refusal."
        ),
    )
    double_opt_in = models.BooleanField(
        _("double opt-in"),
        default=False,
        help_text=_("Send a confirmation email; consent only counts once the link is confirmed."),
    )
    is_marketing = models.BooleanField(
        _("marketing email purpose"),
        default=False,
        help_text=_("Marketing emails may only be sent to contacts with this consent."),
    )
    version = models.PositiveIntegerField(_("current version"), default=0, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    panels = [
        FieldPanel("name"),
        FieldPanel("key"),
        FieldPanel("text"),
        FieldPanel("required"),
        FieldPanel("double_opt_in"),
        FieldPanel("is_marketing"),
        HelpPanel(
            content=_(
                "Saving a changed text creates a new version. Consent records keep the "
                "exact text each visitor saw."
            )
        ),
    ]

    class Meta:
        verbose_name = _("consent purpose")
        verbose_name_plural = _("consent purposes")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        with transaction.atomic():
            super().save(*args, **kwargs)
            current = self.current_version
            if current is None or current.differs_from(self):
                self.version = (current.number if current else 0) + 1
                ConsentPurposeVersion.objects.create(
                    purpose=self,
                    number=self.version,
                    text=self.text,
                    required=self.required,
                    double_opt_in=self.double_opt_in,
                )
                type(self).objects.filter(pk=self.pk).update(version=self.version)

    @property
    def current_version(self) -> ConsentPurposeVersion | None:
        if self.pk is None:
            return None
        return self.versions.order_by("-number").first()


class ConsentPurposeVersion(models.Model):
    """An immutable snapshot of a purpose's wording and rules."""

    purpose = models.ForeignKey(
        ConsentPurpose,
        on_delete=models.PROTECT,
        related_name="versions",
        verbose_name=_("purpose"),
    )
    number = models.PositiveIntegerField(_("version"))
    text = models.TextField(_("checkbox text"))
    required = models.BooleanField(_("required"))
    double_opt_in = models.BooleanField(_("double opt-in"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("consent purpose version")
        verbose_name_plural = _("consent purpose versions")
        ordering = ["purpose", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["purpose", "number"], name="wj_purpose_version"),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} v{self.number}"

    def differs_from(self, purpose: ConsentPurpose) -> bool:
        return (self.text, self.required, self.double_opt_in) != (
            purpose.text,
            purpose.required,
            purpose.double_opt_in,
        )


class ConsentRecord(models.Model):
    """One answer of one contact for one purpose version: the proof of consent.

    Rows are never edited except to stamp a double-opt-in confirmation; a
    withdrawal is a new row. The contact's current state for a purpose is its
    latest deciding row (see privacy.consent.deciding_records).
    """

    class Action(models.TextChoices):
        GRANTED = "granted", _("Granted")
        REFUSED = "refused", _("Refused")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class Method(models.TextChoices):
        FORM = "form", _("Form")
        PREFERENCE_CENTRE = "preference_centre", _("Preference centre")
        UNSUBSCRIBE = "unsubscribe", _("Unsubscribe link")
        ADMIN = "admin", _("Admin")
        IMPORT = "import", _("Import")
        API = "api", _("API")
        COOKIE_BANNER = "cookie_banner", _("Cookie banner")

    contact = models.ForeignKey(
        "wagtail_journey.Contact",
        on_delete=models.CASCADE,
        related_name="consents",
        verbose_name=_("contact"),
    )
    purpose = models.ForeignKey(
        ConsentPurpose,
        on_delete=models.PROTECT,
        related_name="records",
        verbose_name=_("purpose"),
    )
    version = models.ForeignKey(
        ConsentPurposeVersion,
        on_delete=models.PROTECT,
        related_name="records",
        verbose_name=_("version"),
    )
    text_shown = models.TextField(_("text shown"))
    action = models.CharField(_("answer"), max_length=16, choices=Action.choices)
    method = models.CharField(_("how"), max_length=24, choices=Method.choices)
    created_at = models.DateTimeField(_("when"), default=timezone.now)
    source_url = models.CharField(_("where"), max_length=500, blank=True)
    form_key = models.CharField(_("form"), max_length=64, blank=True)
    submission = models.ForeignKey(
        "wagtail_journey.FormSubmission",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="consents",
        verbose_name=_("submission"),
    )
    ip_address = models.CharField(_("IP address (as configured)"), max_length=64, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=400, blank=True)
    double_opt_in = models.BooleanField(_("double opt-in required"), default=False)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    confirmation_sent_at = models.DateTimeField(_("confirmation email sent"), null=True, blank=True)
    # Why no confirmation email is sent for this grant (blank: one is due or
    # was sent). See privacy.double_opt_in.schedule_confirmation.
    confirmation_skipped = models.CharField(
        _("confirmation email not sent"),
        max_length=16,
        blank=True,
        choices=[
            ("throttled", _("Too many confirmation emails to this address")),
            ("already", _("Consent already confirmed")),
        ],
    )

    class Meta:
        verbose_name = _("consent record")
        verbose_name_plural = _("consent records")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["contact", "purpose", "-created_at"], name="wj_consent_latest"),
        ]

    def __str__(self) -> str:
        return f"{self.contact} · {self.purpose} · {self.get_action_display()}"

    @property
    def is_effective(self) -> bool:
        """Does this answer count as consent? Granted, and confirmed if DOI applies."""
        return self.action == self.Action.GRANTED and (
            not self.double_opt_in or self.confirmed_at is not None
        )
