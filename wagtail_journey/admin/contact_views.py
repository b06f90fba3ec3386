"""The contact page: who this is, the score and why, stage, tags, segments,
consents, submissions, emails and the whole timeline; and the editor actions
on it (each calls the same function the tests call).

The page is a list of sections (:data:`SECTIONS`): a template each, with an
optional function that gives the template its data. Another part of the
package adds its panel with one line, e.g.
``SECTIONS.append(Section("wagtail_journey/admin/contact/privacy.html", privacy_data))``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from wagtail.snippets.views.snippets import InspectView

from wagtail_journey.admin.display import properties_text, touch_text, when
from wagtail_journey.contacts.timeline import contact_timeline
from wagtail_journey.kinds import kind_label
from wagtail_journey.models import Contact, OutboundEmail, Segment, Touchpoint
from wagtail_journey.scoring import MAX_MANUAL_CHANGE, add_manual_change, explain_score
from wagtail_journey.segments import add_static_members, remove_static_members
from wagtail_journey.stages import lifecycle_choices, set_lifecycle_stage
from wagtail_journey.tags import add_tags, remove_tags


class StageForm(forms.Form):
    stage = forms.ChoiceField(label=gettext_lazy("Move to stage"), choices=lifecycle_choices)


@dataclass(frozen=True)
class Section:
    """One part of the contact page: a template, and what it needs besides
    ``contact``, ``can_change`` and ``contact_action_url`` (which every section has)."""

    template: str
    data: Callable[[Contact, HttpRequest], dict] | None = None


def score_data(contact: Contact, request: HttpRequest) -> dict:
    return {"explanation": explain_score(contact)}


def stage_data(contact: Contact, request: HttpRequest) -> dict:
    return {
        "stage_history": stage_history(contact),
        "stage_form": StageForm(initial={"stage": contact.lifecycle_stage}),
        "stage_label": dict(lifecycle_choices()).get(
            contact.lifecycle_stage, contact.lifecycle_stage
        ),
    }


def tags_data(contact: Contact, request: HttpRequest) -> dict:
    return {"tags": sorted(contact.tags.names())}


def segments_data(contact: Contact, request: HttpRequest) -> dict:
    return {
        "memberships": contact.segment_memberships.select_related("segment").order_by(
            "segment__name"
        ),
        "static_segments": Segment.objects.filter(kind=Segment.Kind.STATIC).order_by("name"),
    }


def consents_data(contact: Contact, request: HttpRequest) -> dict:
    return {
        "consent_records": contact.consents.select_related("purpose", "version").order_by(
            "-created_at", "-id"
        )
    }


def submissions_data(contact: Contact, request: HttpRequest) -> dict:
    return {"submissions": contact.submissions.order_by("-created_at")[:50]}


#: Email touchpoints shown under the message they are about.
EMAIL_EVENTS = ("email_opened", "email_clicked", "email_bounced", "unsubscribed")


def emails_data(contact: Contact, request: HttpRequest) -> dict:
    """The latest messages to the contact, each with its events (two queries)."""
    from wagtail_journey.admin.outbox import what

    rows = list(
        OutboundEmail.objects.filter(contact=contact)
        .select_related("template")
        .order_by("-created_at", "-id")[:50]
    )
    events: dict[int, list[dict]] = {row.pk: [] for row in rows}
    if rows:
        found = (
            Touchpoint.objects.filter(
                contact=contact,
                kind__in=EMAIL_EVENTS,
                properties__outbound_email__in=list(events),
            )
            .order_by("occurred_at", "id")
            .values_list("kind", "occurred_at", "properties")
        )
        for kind, occurred_at, props in found:
            row_id = (props or {}).get("outbound_email")
            if row_id in events:
                events[row_id].append(
                    {"label": kind_label(kind), "when": occurred_at, "url": props.get("url", "")}
                )
    return {
        "emails": [
            {
                "row": row,
                "what": what(row),
                "inspect_url": reverse("wagtail_journey_outboundemail:inspect", args=[row.pk]),
                "events": events[row.pk],
            }
            for row in rows
        ]
    }


def timeline_data(contact: Contact, request: HttpRequest) -> dict:
    kinds = [k for k in request.GET.getlist("kind") if k][:20]
    timeline = contact_timeline(contact, kinds=kinds, after=request.GET.get("after", ""))
    params = request.GET.copy()
    params.pop("after", None)
    next_url = ""
    if timeline.next_cursor:
        params["after"] = timeline.next_cursor
        next_url = f"{request.path}?{params.urlencode()}#wj-timeline-heading"
    return {
        "timeline": timeline,
        "chosen_kinds": kinds,
        "timeline_next_url": next_url,
    }


#: The contact page, top to bottom. Add a panel with one line (see the module's docstring).
SECTIONS: list[Section] = [
    Section("wagtail_journey/admin/contact/score.html", score_data),
    Section("wagtail_journey/admin/contact/stage.html", stage_data),
    Section("wagtail_journey/admin/contact/tags.html", tags_data),
    Section("wagtail_journey/admin/contact/segments.html", segments_data),
    Section("wagtail_journey/admin/contact/consents.html", consents_data),
    Section("wagtail_journey/admin/contact/submissions.html", submissions_data),
    Section("wagtail_journey/admin/contact/emails.html", emails_data),
    Section("wagtail_journey/admin/contact/timeline.html", timeline_data),
]


class ContactInspectView(InspectView):
    """The contact page (the snippet viewset's inspect view)."""

    template_name = "wagtail_journey/admin/contact_inspect.html"

    def get_field_label(self, field_name, field):
        return capfirst(super().get_field_label(field_name, field))

    def get_field_display_value(self, field_name, field):
        value = getattr(self.object, field_name, None)
        empty = "—"
        if getattr(field, "choices", None):
            return capfirst(getattr(self.object, f"get_{field_name}_display")()) or empty
        if value is None or value == "":
            return empty
        if field_name in ("first_touch", "last_touch"):
            return touch_text(value) or empty
        if field_name == "owner":
            from wagtail.admin.utils import get_user_display_name

            return get_user_display_name(value)
        if isinstance(value, dict):
            return properties_text(value) or empty
        if isinstance(value, datetime):
            return when(value)
        return super().get_field_display_value(field_name, field)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        contact = self.object
        request = self.request
        context.update(
            contact=contact,
            can_change=request.user.has_perm("wagtail_journey.change_contact"),
            contact_action_url=reverse("wagtail_journey_contact:action", args=[contact.pk]),
            sections=[
                (section.template, section.data(contact, request) if section.data else {})
                for section in SECTIONS
            ],
        )
        return context


#: Longest tag name (taggit's column).
TAG_MAX_LENGTH = 100


class TagsForm(forms.Form):
    tags = forms.CharField(max_length=1000)

    def clean_tags(self) -> list[str]:
        names = [n.strip() for n in self.cleaned_data["tags"].split(",") if n.strip()]
        if any(len(n) > TAG_MAX_LENGTH for n in names):
            raise ValidationError(
                gettext_lazy("A tag has at most %(max)s characters.") % {"max": TAG_MAX_LENGTH}
            )
        return names


class RemoveTagForm(forms.Form):
    tag = forms.CharField(max_length=TAG_MAX_LENGTH)


class ScoreForm(forms.Form):
    delta = forms.IntegerField(
        min_value=-MAX_MANUAL_CHANGE,
        max_value=MAX_MANUAL_CHANGE,
        error_messages={"invalid": gettext_lazy("Enter a whole number of points.")},
    )
    note = forms.CharField(max_length=150, required=False)


class SegmentForm(forms.Form):
    segment = forms.ModelChoiceField(queryset=Segment.objects.filter(kind=Segment.Kind.STATIC))


ACTION_FORMS = {
    "stage": StageForm,
    "add_tag": TagsForm,
    "remove_tag": RemoveTagForm,
    "score": ScoreForm,
    "add_segment": SegmentForm,
    "remove_segment": SegmentForm,
}


@require_POST
def contact_action(request, pk):
    """One POST endpoint for the contact page's small forms.

    Every action reads its input through a form: bad input (an unknown segment,
    a tag too long, a score change out of range) is a message, never a 500.
    """
    if not request.user.has_perm("wagtail_journey.change_contact"):
        raise PermissionDenied
    contact = get_object_or_404(Contact, pk=pk)
    action = request.POST.get("action")
    inspect_url = reverse("wagtail_journey_contact:inspect", args=[contact.pk])
    if action not in ACTION_FORMS:
        messages.error(request, _("Unknown action."))
        return redirect(inspect_url)
    form = ACTION_FORMS[action](request.POST)
    if not form.is_valid():
        errors = [e for field_errors in form.errors.values() for e in field_errors]
        messages.error(request, " ".join(errors))
        return redirect(inspect_url)
    data = form.cleaned_data
    try:
        _apply(action, contact, data, request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect(inspect_url)


def _apply(action: str, contact: Contact, data: dict, request) -> None:
    if action == "stage":
        if set_lifecycle_stage(contact, data["stage"], user=request.user):
            messages.success(request, _("Lifecycle stage changed."))
    elif action == "add_tag":
        add_tags(contact, *data["tags"], user=request.user)
    elif action == "remove_tag":
        remove_tags(contact, data["tag"], user=request.user)
    elif action == "score":
        note = data["note"].strip() or _("Manual correction")
        add_manual_change(contact, data["delta"], f"{note} ({request.user.get_username()})")
    elif action == "add_segment":
        add_static_members(data["segment"], [contact.pk])
    else:
        remove_static_members(data["segment"], [contact.pk])


#: How a lifecycle stage changed, as editors read it.
STAGE_REASONS = {
    "manual": gettext_lazy("moved by hand"),
    "score": gettext_lazy("score threshold"),
    "event": gettext_lazy("event"),
}


def stage_history(contact) -> list[dict]:
    """The last stage changes with translated stage names and reasons."""
    labels = dict(lifecycle_choices())
    rows = Touchpoint.objects.filter(contact=contact, kind="stage_changed").order_by(
        "-occurred_at"
    )[:20]
    return [
        {
            "occurred_at": tp.occurred_at,
            "from": labels.get(
                (tp.properties or {}).get("from"), (tp.properties or {}).get("from")
            ),
            "to": labels.get((tp.properties or {}).get("to"), (tp.properties or {}).get("to")),
            "reason": STAGE_REASONS.get((tp.properties or {}).get("reason"), ""),
            "by": (tp.properties or {}).get("by", ""),
        }
        for tp in rows
    ]
