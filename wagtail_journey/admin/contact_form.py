"""The contact edit form: what an editor may type, and nothing derived.

Score, journey stage, first/last touch and activity dates are caches of the
touchpoint log, so the form does not hold them: the score changes through the
ledger (a manual adjustment with a note), the lifecycle stage is a choice and
a change records ``stage_changed`` and tags ``tag_added``/``tag_removed``, as on
the contact page.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from wagtail_journey.admin.base_form import JourneyAdminForm
from wagtail_journey.scoring import add_manual_change
from wagtail_journey.stages import lifecycle_choices, set_lifecycle_stage
from wagtail_journey.tags import add_tags, remove_tags

#: The model fields the form writes (everything else is derived).
EDITABLE = ("email", "first_name", "last_name", "phone", "owner", "tags")
SCORE_LIMIT = 1_000_000


class ContactForm(JourneyAdminForm):
    lifecycle_stage = forms.ChoiceField(label=_("Lifecycle stage"), choices=lifecycle_choices)
    score_adjustment = forms.IntegerField(
        label=_("Adjust the score by"),
        required=False,
        min_value=-SCORE_LIMIT,
        max_value=SCORE_LIMIT,
        help_text=_(
            "Points added to the score (negative to subtract), kept in the score's "
            "history with your note."
        ),
    )
    score_note = forms.CharField(
        label=_("Why"),
        required=False,
        max_length=150,
        help_text=_("Shown next to the adjustment in the score's history."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.stage_before = self.instance.lifecycle_stage
        self.tags_before = set(self.instance.tags.names()) if self.instance.pk else set()

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("score_adjustment") and not (cleaned.get("score_note") or "").strip():
            self.add_error("score_note", _("Say why the score changes."))
        return cleaned

    def save(self, commit: bool = True):
        contact = self.instance
        stage = self.cleaned_data["lifecycle_stage"]
        if contact.pk is None:
            contact.save()
        else:
            # Only the editable columns: a score or touch written by a worker
            # since the form was opened is not overwritten with the old value.
            contact.lifecycle_stage = self.stage_before
            contact.save(update_fields=[f for f in EDITABLE if f != "tags"])
            if stage != self.stage_before:
                set_lifecycle_stage(contact, stage, user=self.for_user)
        tags = set(self.cleaned_data.get("tags") or [])
        add_tags(contact, *sorted(tags - self.tags_before), user=self.for_user)
        remove_tags(contact, *sorted(self.tags_before - tags), user=self.for_user)
        delta = self.cleaned_data.get("score_adjustment")
        if delta:
            note = self.cleaned_data["score_note"].strip()
            user = self.for_user.get_username() if self.for_user else ""
            add_manual_change(contact, delta, f"{note} ({user})" if user else note)
        return contact
