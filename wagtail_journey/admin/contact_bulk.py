"""Bulk actions on the contact list: tag, untag, assign an owner, add to or
remove from a static segment, export (CSV or XLSX).

Wagtail's bulk-action framework (snippets) gives the footer, the selection
(checked rows, or "all in listing", which arrives with the listing's own
filters and search in the query string) and a confirmation page per action.
What this module adds:

- a permission check per action, once for the whole selection (the model
  permission: *change* to modify contacts, any contact permission to export);
  without it the confirmation page lists nothing to act on and a POST changes
  nothing;
- "all in listing" means what the listing shows (its filters and search are
  applied again here), never every contact of the site;
- a selection of more than :data:`~wagtail_journey.contacts.bulk.MAX_CONTACTS`
  is refused with a message, before anything is read or written;
- the changes go through :mod:`wagtail_journey.contacts.bulk` (the functions
  the tests call), and each contact's history gets one audit entry, titled
  without personal data, written in one INSERT.

A new action (enrolling in a flow, when flows exist) is a subclass of
:class:`ContactBulkAction` with a form and ``run()``, registered in
``wagtail_hooks.py`` with ``hooks.register("register_bulk_action", ...)``.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from wagtail.admin.views.bulk_action import BulkAction

from wagtail_journey.admin.contact_views import TAG_MAX_LENGTH
from wagtail_journey.admin.guard import has_nul, user_can_read
from wagtail_journey.contacts import bulk
from wagtail_journey.contacts.paging import bounded_count
from wagtail_journey.models import Contact, Segment

#: Emails listed on a confirmation page (the rest are counted).
SHOWN = 20

#: Audit log actions (registered with register_log_actions).
LOG_ACTIONS = {
    "tag": (_("Tag contacts in bulk"), _("Tagged in bulk")),
    "untag": (_("Untag contacts in bulk"), _("Untagged in bulk")),
    "assign_owner": (_("Assign an owner in bulk"), _("Owner assigned in bulk")),
    "add_to_segment": (_("Add to a static segment in bulk"), _("Added to a segment in bulk")),
    "remove_from_segment": (
        _("Remove from a static segment in bulk"),
        _("Removed from a segment in bulk"),
    ),
}


def register_log_actions(actions) -> None:
    for name, (label, message) in LOG_ACTIONS.items():
        actions.register_action(f"wagtail_journey.contact.{name}", label, message)


def listing_queryset(request) -> QuerySet:
    """The contacts the listing shows for this query string (filters and search)."""
    from wagtail_journey.admin.contact_filters import ContactFilterSet
    from wagtail_journey.admin.contact_listing import search_contacts

    filterset = ContactFilterSet(data=request.GET, queryset=Contact.objects.all(), request=request)
    if not filterset.is_valid():
        return Contact.objects.none()
    return search_contacts(filterset.qs, request.GET.get("q", ""))


class TagNamesField(forms.CharField):
    """Comma-separated tag names, each at most the tag column's length."""

    def clean(self, value) -> list[str]:
        value = super().clean(value)
        names = [n.strip() for n in (value or "").split(",") if n.strip()]
        if not names:
            raise ValidationError(_("Enter at least one tag."))
        if any(len(n) > TAG_MAX_LENGTH for n in names):
            raise ValidationError(
                _("A tag has at most %(max)s characters.") % {"max": TAG_MAX_LENGTH}
            )
        return names


class TagsForm(forms.Form):
    tags = TagNamesField(
        label=_("Tags"), max_length=1000, help_text=_("Separate several tags with commas.")
    )


class OwnerForm(forms.Form):
    owner = forms.ModelChoiceField(
        label=_("Owner"),
        queryset=bulk.owner_choices(),
        required=False,
        empty_label=_("Nobody"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from wagtail.admin.utils import get_user_display_name

        self.fields["owner"].queryset = bulk.owner_choices()
        self.fields["owner"].label_from_instance = get_user_display_name


class SegmentForm(forms.Form):
    segment = forms.ModelChoiceField(
        label=_("Static segment"),
        queryset=Segment.objects.filter(kind=Segment.Kind.STATIC).order_by("name"),
        error_messages={"invalid_choice": _("Choose one of the static segments.")},
    )


class ExportForm(forms.Form):
    format = forms.ChoiceField(
        label=_("Format"),
        choices=[("csv", "CSV"), ("xlsx", "XLSX (Excel)")],
        initial="csv",
        widget=forms.RadioSelect,
    )


class ContactBulkAction(BulkAction):
    """The shared part: selection, one permission check, the size limit, audit."""

    models = [Contact]
    template_name = "wagtail_journey/admin/contact_bulk_confirm.html"
    #: "change" for actions that modify contacts, "view" for reading ones (export).
    permission = "change"
    action_priority = 50

    @cached_property
    def allowed(self) -> bool:
        user = self.request.user
        if self.permission == "view":
            return user_can_read(user, Contact)
        return user.is_active and user.has_perm("wagtail_journey.change_contact")

    def check_perm(self, obj) -> bool:
        return self.allowed

    @cached_property
    def selection(self) -> QuerySet:
        ids = self.request.GET.getlist("id")
        if "all" in ids:
            return listing_queryset(self.request)
        # Ids are digits and fit the column (a 30-digit "id" is not an error page).
        picked = [int(i) for i in ids if i.isdigit() and len(i) < 19]
        return Contact.objects.filter(pk__in=picked[: bulk.MAX_CONTACTS + 1])

    def get_actionable_objects(self):
        if not self.allowed:
            return [], {"items_with_no_access": []}
        return list(self.selection.order_by("-pk")[: bulk.MAX_CONTACTS + 1]), {
            "items_with_no_access": []
        }

    def dispatch(self, request, *args, **kwargs):
        if has_nul(request):
            from django.http import HttpResponseBadRequest

            return HttpResponseBadRequest(gettext("The request contains invalid characters."))
        if not self.allowed:
            from wagtail.admin.auth import permission_denied

            return permission_denied(request)
        count = bounded_count(self.selection, bulk.MAX_CONTACTS)
        try:
            bulk.check_size(count.value if count.exact else max(count.estimate, count.value + 1))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(self.next_url)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["shown"] = context["items"][:SHOWN]
        context["count"] = len(context["items"])
        context["more"] = max(0, context["count"] - SHOWN)
        context["action"] = self
        context["header_icon"] = "user"
        return context

    def object_context(self, contact):
        return {"item": contact}

    def get_execution_context(self):
        return {"action": self, "data": self.cleaned_form.cleaned_data}

    @classmethod
    def execute_action(cls, objects, action=None, data=None, **kwargs):
        try:
            changed = action.run(objects, data)
        except ValidationError as exc:
            messages.error(action.request, " ".join(exc.messages))
            return 0, 0
        action.audit(objects, data)
        return changed, 0

    def run(self, contacts: list[Contact], data: dict) -> int:
        raise NotImplementedError

    def audit_data(self, data: dict) -> dict:
        return {}

    def audit(self, contacts: list[Contact], data: dict) -> None:
        """One history entry per contact, one INSERT, no personal data in the title."""
        if self.action_type not in LOG_ACTIONS:
            return
        from wagtail.log_actions import registry as log_registry

        log_model = log_registry.get_log_model_for_model(Contact)
        content_type = ContentType.objects.get_for_model(Contact)
        now = timezone.now()
        log_model.objects.bulk_create(
            [
                log_model(
                    content_type=content_type,
                    object_id=str(contact.pk),
                    label=gettext("Contact %(id)s") % {"id": contact.pk},
                    action=f"wagtail_journey.contact.{self.action_type}",
                    data=self.audit_data(data),
                    timestamp=now,
                    user=self.request.user,
                    content_changed=True,
                )
                for contact in contacts
            ],
            batch_size=1000,
        )


class TagBulkAction(ContactBulkAction):
    action_priority = 10
    display_name = _("Tag")
    action_type = "tag"
    aria_label = _("Add tags to the selected contacts")
    form_class = TagsForm
    submit_label = _("Add the tags")

    def run(self, contacts, data):
        return bulk.tag_contacts(contacts, data["tags"], user=self.request.user)

    def audit_data(self, data):
        return {"tags": data["tags"]}

    def get_success_message(self, num_parent_objects, num_child_objects):
        return ngettext(
            "%(count)s contact got a new tag.",
            "%(count)s contacts got a new tag.",
            num_parent_objects,
        ) % {"count": num_parent_objects}


class UntagBulkAction(ContactBulkAction):
    action_priority = 20
    display_name = _("Remove tags")
    action_type = "untag"
    aria_label = _("Remove tags from the selected contacts")
    form_class = TagsForm
    submit_label = _("Remove the tags")

    def run(self, contacts, data):
        return bulk.untag_contacts(contacts, data["tags"], user=self.request.user)

    def audit_data(self, data):
        return {"tags": data["tags"]}

    def get_success_message(self, num_parent_objects, num_child_objects):
        return ngettext(
            "A tag was removed from %(count)s contact.",
            "Tags were removed from %(count)s contacts.",
            num_parent_objects,
        ) % {"count": num_parent_objects}


class AssignOwnerBulkAction(ContactBulkAction):
    action_priority = 50
    display_name = _("Assign owner")
    action_type = "assign_owner"
    aria_label = _("Assign an owner to the selected contacts")
    form_class = OwnerForm
    submit_label = _("Assign")

    def run(self, contacts, data):
        return bulk.assign_owner([c.pk for c in contacts], data["owner"])

    def audit_data(self, data):
        return {"owner": data["owner"].pk if data["owner"] else None}

    def get_success_message(self, num_parent_objects, num_child_objects):
        return ngettext(
            "%(count)s contact has a new owner.",
            "%(count)s contacts have a new owner.",
            num_parent_objects,
        ) % {"count": num_parent_objects}


class AddToSegmentBulkAction(ContactBulkAction):
    action_priority = 40
    display_name = _("Add to segment")
    action_type = "add_to_segment"
    aria_label = _("Add the selected contacts to a static segment")
    form_class = SegmentForm
    submit_label = _("Add to the segment")

    def run(self, contacts, data):
        return bulk.add_to_segment(data["segment"], [c.pk for c in contacts])

    def audit_data(self, data):
        return {"segment": data["segment"].pk}

    def get_success_message(self, num_parent_objects, num_child_objects):
        return ngettext(
            "%(count)s contact was added to the segment.",
            "%(count)s contacts were added to the segment.",
            num_parent_objects,
        ) % {"count": num_parent_objects}


class RemoveFromSegmentBulkAction(ContactBulkAction):
    action_priority = 45
    display_name = _("Remove from segment")
    action_type = "remove_from_segment"
    aria_label = _("Remove the selected contacts from a static segment")
    form_class = SegmentForm
    submit_label = _("Remove from the segment")

    def run(self, contacts, data):
        return bulk.remove_from_segment(data["segment"], [c.pk for c in contacts])

    def audit_data(self, data):
        return {"segment": data["segment"].pk}

    def get_success_message(self, num_parent_objects, num_child_objects):
        return ngettext(
            "%(count)s contact was removed from the segment.",
            "%(count)s contacts were removed from the segment.",
            num_parent_objects,
        ) % {"count": num_parent_objects}


class ExportBulkAction(ContactBulkAction):
    display_name = _("Export")
    action_type = "export"
    aria_label = _("Export the selected contacts")
    form_class = ExportForm
    permission = "view"
    action_priority = 60
    submit_label = _("Download")

    def form_valid(self, form):
        from wagtail_journey.admin.contact_listing import ContactExporter

        objects, _no_access = self.get_actionable_objects()
        queryset = Contact.objects.filter(pk__in=[c.pk for c in objects]).order_by("-pk")
        return ContactExporter().export(queryset, form.cleaned_data["format"])


BULK_ACTIONS = [
    TagBulkAction,
    UntagBulkAction,
    AssignOwnerBulkAction,
    AddToSegmentBulkAction,
    RemoveFromSegmentBulkAction,
    ExportBulkAction,
]
