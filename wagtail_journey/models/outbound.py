"""Delivery of email: one ``OutboundEmail`` row per message, and the ``Suppression`` list.

A row is the truth about one message: it is created ``pending`` (queued), claimed
``sending`` in the transaction that re-checks consent and suppression, then becomes
``sent``, ``failed`` or ``skipped`` (with a reason an editor can read). Delivery
events from the provider move it on to ``delivered``, ``bounced`` or ``complained``.
A row left ``sending`` by a worker that died is marked ``unknown`` by a sweep, for a
person to decide: it is never resent blindly.

Rows stay small (issue 11 asks for <= 1 KB per row with its indexes): no copy of
the HTML is stored (the admin re-renders it from the revision and ``context``),
status and reason are small integers, and the only text is the idempotency key,
the provider's message id and a short error detail when something failed.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutboundStatus(models.IntegerChoices):
    PENDING = 0, _("Queued")
    SENDING = 1, _("Sending")
    SENT = 2, _("Sent")
    FAILED = 3, _("Failed")
    SKIPPED = 4, _("Skipped")
    UNKNOWN = 5, _("Unknown: check with the provider")
    DELIVERED = 6, _("Delivered")
    BOUNCED = 7, _("Bounced")
    COMPLAINED = 8, _("Complained")
    HELD = 9, _("Waiting for the A/B test's winner")


class OutboundReason(models.IntegerChoices):
    """Why a message was skipped or failed; the label is what editors read."""

    NONE = 0, "—"
    NO_CONSENT = 1, _("No valid consent for the template's purpose")
    SUPPRESSED = 2, _("The address is on the suppression list")
    ERASED = 3, _("The contact was erased")
    RESTRICTED = 4, _("Processing is restricted for this contact")
    FREQUENCY_CAP = 5, _("Frequency cap reached for this contact")
    NO_ADDRESS = 6, _("The contact has no email address")
    TEMPLATE_GONE = 7, _("The template was deleted")
    ESP_REJECTED = 8, _("The email provider refused the message")
    RETRIES_EXHAUSTED = 9, _("The email provider could not be reached after several tries")
    NO_ANSWER = 10, _("The email provider did not answer: it may or may not have been sent")
    RENDER_FAILED = 11, _("The message could not be rendered")
    HARD_BOUNCE = 12, _("Hard bounce")
    COMPLAINT = 13, _("Spam complaint")
    CANCELLED = 14, _("The broadcast was cancelled")
    OBJECTED = 15, _("The contact objects to direct marketing")


#: Statuses from which nothing will be attempted any more.
FINAL_STATUSES = (
    OutboundStatus.SENT,
    OutboundStatus.FAILED,
    OutboundStatus.SKIPPED,
    OutboundStatus.UNKNOWN,
    OutboundStatus.DELIVERED,
    OutboundStatus.BOUNCED,
    OutboundStatus.COMPLAINED,
)
#: Statuses of a message the provider accepted (counted by the frequency cap).
ACCEPTED_STATUSES = (
    OutboundStatus.SENT,
    OutboundStatus.DELIVERED,
    OutboundStatus.BOUNCED,
    OutboundStatus.COMPLAINED,
    OutboundStatus.UNKNOWN,
)


class OutboundEmail(models.Model):
    """One message to one recipient: what was (or will be) sent, and what happened."""

    Status = OutboundStatus
    Reason = OutboundReason

    status = models.PositiveSmallIntegerField(
        _("status"), choices=OutboundStatus.choices, default=OutboundStatus.PENDING
    )
    reason = models.PositiveSmallIntegerField(
        _("reason"), choices=OutboundReason.choices, default=OutboundReason.NONE
    )
    # What the provider said when it refused a message (short; no HTML).
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    contact = models.ForeignKey(
        "wagtail_journey.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,  # an erased contact's rows stay (counts), emptied
        related_name="outbound_emails",
        db_index=False,  # (contact, sent_at) below leads with it
    )
    # Recipient of a message without a contact ("send a test to me"); empty otherwise
    # (the contact's current address is used, so an erased contact leaves none here).
    address = models.CharField(_("address"), max_length=254, blank=True)
    # The consent purpose the message needs; null = transactional (confirmation
    # links, exports): sent without a marketing consent, never to suppressed addresses.
    purpose = models.ForeignKey(
        "wagtail_journey.ConsentPurpose",
        verbose_name=_("consent purpose"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    # What is sent: a message built in code (emails/messages.py registry key,
    # e.g. "double_opt_in"), or an editor's template revision.
    message = models.CharField(_("message"), max_length=32, blank=True)
    broadcast = models.ForeignKey(
        "wagtail_journey.Broadcast",
        verbose_name=_("broadcast"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
        db_index=False,  # (broadcast, status) below leads with it
    )
    # The A/B variant the message carries (null: not an A/B-tested broadcast,
    # or a message held until the winner is picked).
    variant = models.ForeignKey(
        "wagtail_journey.BroadcastVariant",
        verbose_name=_("A/B variant"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
        db_index=False,  # read through the broadcast's index
    )
    template = models.ForeignKey(
        "wagtail_journey.EmailTemplate",
        verbose_name=_("template"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,  # the row stays; sending it is skipped with a reason
        related_name="+",
        db_index=False,
    )
    revision = models.ForeignKey(
        "wagtailcore.Revision",
        verbose_name=_("template revision"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    # The small personalisation context the message is rendered with.
    context = models.JSONField(_("personalisation"), default=dict, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=64, unique=True)
    esp_message_id = models.CharField(_("provider message id"), max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("queued"), default=timezone.now)
    due_at = models.DateTimeField(_("due"), default=timezone.now)
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    event_at = models.DateTimeField(_("status changed"), null=True, blank=True)
    # Engagement, for the stats and A/B winners (emails/stats.py): the first open
    # and click by a person, whether a machine (a scanner, a privacy proxy:
    # events.is_machine_made) opened or clicked, and an unsubscribe from it.
    # A cache of the touchpoints, which remain the truth; written once each by a
    # conditional UPDATE, so replayed events change nothing.
    opened_at = models.DateTimeField(_("opened"), null=True, blank=True)
    clicked_at = models.DateTimeField(_("clicked"), null=True, blank=True)
    machine_opened = models.BooleanField(_("opened by a machine"), default=False)
    machine_clicked = models.BooleanField(_("clicked by a machine"), default=False)
    unsubscribed = models.BooleanField(_("unsubscribed from it"), default=False)

    class Meta:
        verbose_name = _("outbound email")
        verbose_name_plural = _("outbound emails")
        indexes = [
            # Work still to do: tiny, since almost every row is final.
            models.Index(
                fields=["due_at"],
                name="wj_outbound_due",
                condition=Q(status__in=[OutboundStatus.PENDING, OutboundStatus.SENDING]),
            ),
            # The frequency cap and a contact's history.
            models.Index(fields=["contact", "sent_at"], name="wj_outbound_contact"),
            # A broadcast's progress; only rows of broadcasts are in it.
            models.Index(
                fields=["broadcast", "status"],
                name="wj_outbound_broadcast",
                condition=Q(broadcast__isnull=False),
            ),
            # Stats per template.
            models.Index(
                fields=["template", "status"],
                name="wj_outbound_template",
                condition=Q(template__isnull=False),
            ),
            # Webhooks that carry no metadata find the message by the provider's id.
            models.Index(
                fields=["esp_message_id"],
                name="wj_outbound_esp_id",
                condition=~Q(esp_message_id=""),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} · {self.get_status_display()}"

    @property
    def is_transactional(self) -> bool:
        return self.purpose_id is None


class Suppression(models.Model):
    """An address no email goes to (hard bounce, complaint, or an editor's decision).

    The address is kept as a keyed hash (``address_hash``) and, for editors, as
    text. Erasing the contact blanks the text but keeps the hash, so an erased
    person who complained is still never mailed again, and nobody can read the
    address back out of the list.
    """

    class Source(models.TextChoices):
        BOUNCE = "bounce", _("Hard bounce")
        COMPLAINT = "complaint", _("Spam complaint")
        UNSUBSCRIBE = "unsubscribe", _("Unsubscribed at the provider")
        EDITOR = "editor", _("Added by an editor")
        ERASED = "erased", _("The person's data was erased")

    address_hash = models.CharField(_("address key"), max_length=64, unique=True, editable=False)
    address = models.CharField(_("address"), max_length=254, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("added"), default=timezone.now)

    class Meta:
        verbose_name = _("suppressed address")
        verbose_name_plural = _("suppressed addresses")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        # No address: Wagtail's audit log keeps this title after the address is erased.
        return str(_("Suppressed address #%(id)s")) % {"id": self.pk}

    def save(self, *args, **kwargs) -> None:
        from wagtail_journey.identity import normalize_email

        if self.address:
            self.address = normalize_email(self.address)
            self.address_hash = address_key(self.address)
        super().save(*args, **kwargs)


def address_key(address: str) -> str:
    """The keyed hash of a normalised address (HMAC with the site's SECRET_KEY).

    Changing SECRET_KEY (without SECRET_KEY_FALLBACKS) makes existing keys
    unmatchable: docs/operations.md says to keep it.
    """
    from django.utils.crypto import salted_hmac

    return salted_hmac("wagtail_journey.suppression", address, algorithm="sha256").hexdigest()
