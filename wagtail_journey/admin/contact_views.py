"""The contact page: why the score is what it is, stage, tags, segments; and
the editor actions on it (each calls the same function the tests call)."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from wagtail_journey.admin.inspect import ReadableInspectView
from wagtail_journey.models import Contact, Segment, Touchpoint
from wagtail_journey.scoring import add_manual_change, explain_score
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


@require_POST
def contact_action(request, pk):
    """One POST endpoint for the contact page's small forms."""
    if not request.user.has_perm("wagtail_journey.change_contact"):
        raise PermissionDenied
    contact = get_object_or_404(Contact, pk=pk)
    action = request.POST.get("action")
    if action == "stage":
        form = StageForm(request.POST)
        if form.is_valid() and set_lifecycle_stage(
            contact, form.cleaned_data["stage"], user=request.user
        ):
            messages.success(request, _("Lifecycle stage changed."))
    elif action == "add_tag":
        add_tags(contact, *request.POST.get("tags", "").split(","), user=request.user)
    elif action == "remove_tag":
        remove_tags(contact, request.POST.get("tag", ""), user=request.user)
    elif action == "score":
        try:
            delta = int(request.POST.get("delta", ""))
        except ValueError:
            messages.error(request, _("Enter a whole number of points."))
        else:
            note = request.POST.get("note", "").strip() or _("Manual correction")
            add_manual_change(contact, delta, f"{note} ({request.user.get_username()})")
    elif action in ("add_segment", "remove_segment"):
        segment = get_object_or_404(Segment, pk=request.POST.get("segment"), kind="static")
        if action == "add_segment":
            add_static_members(segment, [contact.pk])
        else:
            remove_static_members(segment, [contact.pk])
    else:
        messages.error(request, _("Unknown action."))
    return redirect(reverse("wagtail_journey_contact_modeladmin_inspect", args=[contact.pk]))


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
