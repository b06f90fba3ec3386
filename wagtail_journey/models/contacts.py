"""Contact: a known person, identified by a normalised email address."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from taggit.managers import TaggableManager, _TaggableManager
from taggit.models import Tag, TaggedItemBase


class JourneyStage(models.TextChoices):
    """The customer-journey stages a page, form or contact belongs to."""

    AWARENESS = "awareness", _("Awareness")
    CONSIDERATION = "consideration", _("Consideration")
    CONVERSION = "conversion", _("Conversion")
    RETENTION = "retention", _("Retention")
    ADVOCACY = "advocacy", _("Advocacy")


class ContactEmailField(models.EmailField):
    """An email column whose form field normalises before validating (admin forms).

    Saving normalises too (Contact.save); this makes the admin's form judge the
    address as it will be stored, so "ａｎａ@ｘ.ｏｒｇ" is "ana@x.org" there as well.
    """

    def formfield(self, **kwargs):
        from wagtail_journey.identity import EmailAddressField

        return super().formfield(**{"form_class": EmailAddressField, **kwargs})


def resolve_tag(name: str) -> Tag:
    """The tag called ``name`` in any case ("VIP" is "vip"), created if none is.

    The oldest of several spellings wins, as in taggit's own case-insensitive
    mode. Two requests creating one new tag at once: the INSERT runs in a
    savepoint with the slug set, so the loser's unique-constraint error sends
    it back to read the winner's row instead of making "vip" and "vip_1".
    Case-insensitive means what the database's ``iexact`` means (Unicode on
    PostgreSQL, ASCII letters only on SQLite, where the slug catches the rest).
    """
    found = Tag.objects.filter(name__iexact=name).order_by("pk").first()
    if found is not None:
        return found
    slug = Tag(name=name).slugify(name)
    try:
        with transaction.atomic():
            return Tag.objects.create(name=name, slug=slug)
    except IntegrityError:
        found = Tag.objects.filter(name__iexact=name).order_by("pk").first()
        same_slug = Tag.objects.filter(slug=slug).first()
        if found is None and same_slug and same_slug.name.casefold() == name.casefold():
            found = same_slug  # "Äpfel" for "äpfel" where iexact is ASCII-only (SQLite)
    # Same slug, another name ("a b" vs "a-b"): taggit's own slug fallback.
    return found or Tag.objects.create(name=name)


class CaseInsensitiveTags(_TaggableManager):
    """Contact tags ignore case, whatever the site's TAGGIT_CASE_INSENSITIVE says.

    taggit's switch is site-wide (Wagtail's page tags too), so the package
    does not rely on it: this manager (taggit's ``TaggableManager(manager=...)``
    hook) resolves names case-insensitively in add(), set() (the admin's tag
    field) and remove(), for every writer of contact tags.
    """

    def _to_tag_model_instances(self, tags, tag_kwargs):
        tag_model = self.through.tag_model()
        result: list = []
        for tag in tags:
            if isinstance(tag, str):
                tag = resolve_tag(tag)
            elif not isinstance(tag, tag_model):
                raise ValueError(f"Cannot add {tag!r}: expected a tag or a name.")
            if tag not in result:
                result.append(tag)
        return result

    def remove(self, *tags):
        names = [getattr(t, "name", t) for t in tags]
        if not names:
            return
        match = Q()
        for name in names:
            match |= Q(tag__name__iexact=name)
        stored = (
            self.through._default_manager.filter(**self._lookup_kwargs())
            .filter(match)
            .values_list("tag__name", flat=True)
        )
        super().remove(*set(stored))


class TaggedContact(TaggedItemBase):
    """Explicit through model so segment rules can join tags with one Exists()."""

    content_object = models.ForeignKey(
        "wagtail_journey.Contact", on_delete=models.CASCADE, related_name="tagged_items"
    )

    class Meta:
        verbose_name = _("contact tag")
        verbose_name_plural = _("contact tags")


class Contact(models.Model):
    """A known person. ``email`` is stored normalised (see identity.normalize_email).

    Score, stages and first/last touch are caches derived from the touchpoint
    log; the log stays the truth and a rebuild command recomputes them.
    """

    email = ContactEmailField(_("email"), max_length=254, unique=True)
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    score = models.IntegerField(_("score"), default=0)
    lifecycle_stage = models.CharField(_("lifecycle stage"), max_length=32, default="subscriber")
    journey_stage = models.CharField(
        _("journey stage"), max_length=16, choices=JourneyStage.choices, blank=True
    )
    tags = TaggableManager(
        through=TaggedContact, blank=True, verbose_name=_("tags"), manager=CaseInsensitiveTags
    )
    first_touch = models.JSONField(_("first touch"), default=dict, blank=True)
    last_touch = models.JSONField(_("last touch"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    last_activity_at = models.DateTimeField(_("last activity"), null=True, blank=True)
    # When the owner of the address first proved control of it (a double
    # opt-in link confirmed, a tracked email link followed): identity.prove_control.
    # Until then a form only says what someone typed (docs/architecture.md).
    email_confirmed_at = models.DateTimeField(
        _("address confirmed"), null=True, blank=True, editable=False
    )
    # Written by the decay UPDATE itself (no ledger row per contact): the points
    # decay has taken so far (<= 0; score == ledger sum + decay_total), the ids
    # of the DecayRuns that touched this contact, in order (",3,7"), and the
    # last of them (once per period; ledger rows record it). The contact page
    # and the rebuild derive each run's share from these.
    # db_default too: rows inserted by hand-written SQL (bulk loads) get them.
    decay_total = models.IntegerField(
        _("points lost to decay"), default=0, db_default=0, editable=False
    )
    decay_runs = models.TextField(
        _("decay runs"), default="", db_default="", blank=True, editable=False
    )
    last_decay_run = models.PositiveIntegerField(
        _("last decay run"), default=0, db_default=0, editable=False
    )
    # The contact's IANA time zone ("Europe/Lisbon"), for flow waits such as
    # "Monday 9:00"; blank means the site's TIME_ZONE.
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)
    # Data-subject rights (docs/privacy.md). Each is a timestamp, so the
    # contact page can say since when; null means "not in force".
    # erased_at: the personal data was erased; the row stays as an opaque,
    # anonymous shell so aggregates and receipts keep their keys.
    erased_at = models.DateTimeField(_("erased"), null=True, blank=True, editable=False)
    # Restriction of processing (GDPR art. 18): data kept, nothing processed
    # (no scoring, segments, flows or marketing email).
    restricted_at = models.DateTimeField(_("processing restricted"), null=True, blank=True)
    # Objection to direct marketing (art. 21(2)): every marketing email stops.
    objects_to_marketing_at = models.DateTimeField(
        _("objects to direct marketing"), null=True, blank=True
    )
    # Objection to profiling (art. 21(1)): no scoring or segmenting by behaviour.
    objects_to_profiling_at = models.DateTimeField(_("objects to profiling"), null=True, blank=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["score"], name="wj_contact_score"),
            models.Index(fields=["lifecycle_stage"], name="wj_contact_lifecycle"),
            models.Index(fields=["last_activity_at"], name="wj_contact_activity"),
        ]
        permissions = [
            ("export_contact", _("Can export a contact's data")),
            ("erase_contact", _("Can erase a contact's personal data")),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    def save(self, *args, **kwargs) -> None:
        from wagtail_journey.identity import normalize_email

        self.email = normalize_email(self.email)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        # Normalise before the unique check so the admin reports a duplicate
        # ("Ana@X.org" vs "ana@x.org") as a form error, not a database error.
        from wagtail_journey.identity import normalize_email

        self.email = normalize_email(self.email)

    @property
    def decay_run_ids(self) -> list[int]:
        """The DecayRuns that touched this contact, oldest first."""
        return [int(i) for i in self.decay_runs.split(",") if i]

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()
