"""Segments: dynamic (rules) or static (hand-picked) sets of contacts, and
their materialised membership."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from wagtail_journey.models.fields import LazyStreamField


class SegmentRulesField(LazyStreamField):
    """A StreamField whose blocks come from the segment rule registry, built
    after every app registered its rule types: a module adding a rule type
    (consent, shop ...) needs no migration of wagtail_journey."""

    block_factory = "wagtail_journey.segment_rules.rules_stream_block"


class Segment(models.Model):
    class Kind(models.TextChoices):
        DYNAMIC = "dynamic", _("dynamic (rules)")
        STATIC = "static", _("static (hand-picked or imported)")

    class Match(models.TextChoices):
        ALL = "all", _("all groups (AND)")
        ANY = "any", _("any group (OR)")

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.DYNAMIC)
    match = models.CharField(
        _("contacts must match"), max_length=4, choices=Match.choices, default=Match.ALL
    )
    rules = SegmentRulesField(verbose_name=_("rule groups"), blank=True)
    active = models.BooleanField(_("active"), default=True)
    member_count = models.PositiveIntegerField(_("members"), default=0, editable=False)
    last_rebuilt_at = models.DateTimeField(_("last rebuilt"), null=True, editable=False)
    # Why the last rebuild failed (a rule refers to a deleted page ...); '' when fine.
    error = models.TextField(_("problem"), blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from wagtail_journey.segment_rules import RuleError
        from wagtail_journey.segments import compile_segment

        if self.is_dynamic:
            try:
                compile_segment(self)
            except RuleError as exc:
                raise ValidationError({"rules": str(exc)}) from exc

    @property
    def is_dynamic(self) -> bool:
        return self.kind == self.Kind.DYNAMIC


class SegmentMembership(models.Model):
    segment = models.ForeignKey(
        Segment, verbose_name=_("segment"), on_delete=models.CASCADE, related_name="memberships"
    )
    contact = models.ForeignKey(
        "wagtail_journey.Contact",
        verbose_name=_("contact"),
        on_delete=models.CASCADE,
        related_name="segment_memberships",
    )
    entered_at = models.DateTimeField(_("entered"))

    class Meta:
        verbose_name = _("segment membership")
        verbose_name_plural = _("segment memberships")
        constraints = [
            models.UniqueConstraint(fields=["segment", "contact"], name="wj_segment_member"),
        ]

    def __str__(self) -> str:
        return f"{self.contact_id} ∈ {self.segment_id}"
