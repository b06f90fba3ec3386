"""The contact page: why the score is what it is, stage, tags, segments; and
the editor actions on it (each calls the same function the tests call)."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from wagtail_journey.admin.inspect import ReadableInspectView
from wagtail_journey.models import Contact, Segment, Touchpoint
from wagtail_journey.scoring import MAX_MANUAL_CHANGE, add_manual_change, explain_score
from wagtail_journey.segments import add_static_members, remove_static_members
from wagtail_journey.stages import lifecycle_choices, set_lifecycle_stage
from wagtail_journey.tags import add_tags, remove_tags


class StageForm(forms.Form):
    stage = forms.ChoiceField(label=gettext_lazy("Move to stage"), choices=lifecycle_choices)


class ContactInspectView(ReadableInspectView):
    def get_template_names(self):
        return ["wagtail_journey/admin/contact_inspect.html"]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        contact = self.instance
        context.update(
            contact=contact,
            explanation=explain_score(contact),
            stage_history=stage_history(contact),
            stage_form=StageForm(initial={"stage": contact.lifecycle_stage}),
            stage_label=dict(lifecycle_choices()).get(
                contact.lifecycle_stage, contact.lifecycle_stage
            ),
            tags=sorted(contact.tags.names()),
            memberships=contact.segment_memberships.select_related("segment").order_by("segment"),
            static_segments=Segment.objects.filter(kind=Segment.Kind.STATIC),
            can_change=self.request.user.has_perm("wagtail_journey.change_contact"),
            contact_action_url=reverse("wagtail_journey_contact_action", args=[contact.pk]),
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
    inspect_url = reverse("wagtail_journey_contact_modeladmin_inspect", args=[contact.pk])
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
