"""EmailTemplate: an editor's email, kept with drafts and revisions.

A message always records the revision it was rendered from (the delivery
side stores it), so what a contact received can be shown again after the
template changed. The body's blocks and the rendering live in
wagtail_journey.emails; this module only stores them.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, FieldRowPanel, HelpPanel, MultiFieldPanel
from wagtail.models import DraftStateMixin, PreviewableMixin, RevisionMixin

from wagtail_journey.emails.merge_tags import validate_plain
from wagtail_journey.models.fields import LazyStreamField


def language_choices() -> list[tuple[str, str]]:
    """The site's languages (a callable: migrations do not freeze a site's list)."""
    return [(code, name) for code, name in settings.LANGUAGES]


def default_language() -> str:
    return settings.LANGUAGE_CODE.split("-")[0]


class EmailBodyField(LazyStreamField):
    """The body: blocks from wagtail_journey.emails.blocks."""

    block_factory = "wagtail_journey.emails.blocks.email_body_block"


class EmailTemplate(DraftStateMixin, RevisionMixin, PreviewableMixin, models.Model):
    """Subject, sender and body of an email; marketing (needs a consent
    purpose) or transactional (sent without one, e.g. a receipt)."""

    name = models.CharField(
        _("name"), max_length=100, help_text=_("For editors only; recipients never see it.")
    )
    language = models.CharField(
        _("language"),
        max_length=8,
        choices=language_choices,
        default=default_language,
        help_text=_("Language of the texts added around yours (e.g. the unsubscribe link)."),
    )
    subject = models.CharField(_("subject"), max_length=200, validators=[validate_plain])
    preheader = models.CharField(
        _("preheader"),
        max_length=200,
        blank=True,
        validators=[validate_plain],
        help_text=_("The short summary mail clients show after the subject."),
    )
    from_name = models.CharField(_("from name"), max_length=100, blank=True)
    from_email = models.EmailField(
        _("from address"),
        blank=True,
        help_text=_("Empty: the site's default sender address."),
    )
    reply_to = models.EmailField(_("reply-to address"), blank=True)
    purpose = models.ForeignKey(
        "wagtail_journey.ConsentPurpose",
        verbose_name=_("consent purpose"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="email_templates",
        limit_choices_to={"is_marketing": True},
        help_text=_("Only contacts who gave this consent receive the email."),
    )
    transactional = models.BooleanField(
        _("transactional"),
        default=False,
        help_text=_(
            "A message the contact asked for (a receipt, a download link): sent without "
            "a marketing consent. Never use it for newsletters or offers."
        ),
    )
    track_clicks = models.BooleanField(
        _("track clicks"),
        default=True,
        help_text=_("Links go through the site, which records the click on the contact."),
    )
    body = EmailBodyField(verbose_name=_("body"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    panels = [
        FieldRowPanel([FieldPanel("name"), FieldPanel("language")]),
        MultiFieldPanel(
            [
                FieldPanel("subject"),
                FieldPanel("preheader"),
                HelpPanel(
                    content=_(
                        'Merge tags: {{ first_name|default:"there" }}, {{ last_name }}, '
                        "{{ full_name }}, {{ email }}. The text after default: is used "
                        "when the contact has no value."
                    )
                ),
            ],
            heading=_("Subject"),
        ),
        MultiFieldPanel(
            [
                FieldRowPanel([FieldPanel("from_name"), FieldPanel("from_email")]),
                FieldPanel("reply_to"),
            ],
            heading=_("Sender"),
        ),
        MultiFieldPanel(
            [FieldPanel("purpose"), FieldPanel("transactional"), FieldPanel("track_clicks")],
            heading=_("Consent and tracking"),
        ),
        FieldPanel("body"),
    ]

    class Meta:
        verbose_name = _("email template")
        verbose_name_plural = _("email templates")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if self.transactional and self.purpose_id:
            raise ValidationError(
                {
                    "purpose": _(
                        "A transactional email needs no consent purpose: clear one of the two."
                    )
                }
            )
        if not self.transactional and not self.purpose_id:
            raise ValidationError(
                {
                    "purpose": _(
                        "Choose the consent purpose contacts must have given, or mark the "
                        "email as transactional."
                    )
                }
            )

    @property
    def is_marketing(self) -> bool:
        return not self.transactional

    # --- preview (Wagtail's live preview panel) ---------------------------------

    @property
    def preview_sizes(self):
        return [
            {
                "name": "desktop",
                "icon": "desktop",
                "device_width": 600,
                "label": _("Preview at email desktop width (600 px)"),
            },
            {
                "name": "mobile",
                "icon": "mobile-alt",
                "device_width": 375,
                "label": _("Preview at phone width (375 px)"),
            },
        ]

    def serve_preview(self, request, mode_name):
        from wagtail_journey.emails.preview import preview_response

        return preview_response(self, request)
