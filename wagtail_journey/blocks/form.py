"""The form block: fields defined inline by editors, consent checkboxes, outcome.

A form block has no URL: it posts to its page, in any page type, where
``serving.serve_forms`` receives it. The StreamField block id, stable across
edits and re-ordering, tells which form of the page was submitted.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.snippets.blocks import SnippetChooserBlock

from wagtail_journey.models.contacts import JourneyStage

FIELD_TYPES = [
    ("singleline", _("Single line text")),
    ("email", _("Email")),
    ("phone", _("Phone")),
    ("multiline", _("Multi-line text")),
    ("number", _("Number")),
    ("date", _("Date")),
    ("dropdown", _("Drop-down (select)")),
    ("radio", _("Radio buttons")),
    ("checkbox", _("Checkbox")),
    ("hidden", _("Hidden")),
]
CHOICE_TYPES = {"dropdown", "radio"}

CONTACT_FIELDS = [
    ("", _("Nothing (kept on the submission only)")),
    ("email", _("Contact email")),
    ("first_name", _("First name")),
    ("last_name", _("Last name")),
    ("phone", _("Phone")),
]

#: Names reserved for the form machinery; an editor's field can't take them.
RESERVED_NAMES = {"wj_form", "wj_ts", "wj_hp", "csrfmiddlewaretoken"}


def field_name(value) -> str:
    """The HTML name of a field: its explicit name, else the slugified label."""
    raw = value.get("name") or value.get("label") or "field"
    return slugify(raw).replace("-", "_")[:50] or "field"


class FormFieldBlock(blocks.StructBlock):
    label = blocks.CharBlock(label=_("Label"), max_length=255)
    field_type = blocks.ChoiceBlock(label=_("Type"), choices=FIELD_TYPES, default="singleline")
    required = blocks.BooleanBlock(label=_("Required"), required=False)
    help_text = blocks.CharBlock(label=_("Help text"), required=False, max_length=255)
    choices = blocks.TextBlock(
        label=_("Choices"),
        required=False,
        help_text=_("For drop-downs and radio buttons: one choice per line."),
    )
    default_value = blocks.CharBlock(
        label=_("Default value"),
        required=False,
        max_length=255,
        help_text=_("Pre-filled value; the value sent for hidden fields."),
    )
    maps_to = blocks.ChoiceBlock(
        label=_("Save to contact"),
        choices=CONTACT_FIELDS,
        required=False,
        help_text=_("Copy the answer to the contact (a known value is never emptied)."),
    )
    name = blocks.CharBlock(
        label=_("Field name"),
        required=False,
        max_length=50,
        help_text=_("Optional column name in exports; defaults to the label."),
    )

    class Meta:
        icon = "form"
        label = _("Field")

    def clean(self, value):
        value = super().clean(value)
        errors = {}
        if value["field_type"] in CHOICE_TYPES and not choice_list(value):
            errors["choices"] = ValidationError(_("Enter at least one choice, one per line."))
        if field_name(value) in RESERVED_NAMES:
            errors["name"] = ValidationError(_("This field name is reserved."))
        if value.get("maps_to") == "email" and value["field_type"] != "email":
            errors["maps_to"] = ValidationError(_("Only an email field can be the contact email."))
        if errors:
            raise blocks.StructBlockValidationError(block_errors=errors)
        return value


def choice_list(value) -> list[str]:
    return [c.strip() for c in (value.get("choices") or "").splitlines() if c.strip()]


class FormBlock(blocks.StructBlock):
    name = blocks.CharBlock(
        label=_("Form name"),
        max_length=255,
        help_text=_("Shown in the admin and exports, not to visitors."),
    )
    heading = blocks.CharBlock(label=_("Heading"), required=False, max_length=255)
    intro = blocks.RichTextBlock(label=_("Introduction"), required=False)
    fields = blocks.ListBlock(FormFieldBlock(), label=_("Fields"), min_num=1)
    consents = blocks.ListBlock(
        SnippetChooserBlock("wagtail_journey.ConsentPurpose", label=_("Consent purpose")),
        label=_("Consent checkboxes"),
        required=False,
        # No empty chooser in a new form: it would block saving a form without consents.
        default=[],
        help_text=_("Each purpose is a checkbox, never pre-ticked."),
    )
    submit_label = blocks.CharBlock(label=_("Submit button"), default=_("Submit"), max_length=80)
    success_message = blocks.RichTextBlock(
        label=_("Success message"),
        required=False,
        help_text=_("Shown after a successful submission (unless a redirect page is set)."),
    )
    redirect_page = blocks.PageChooserBlock(label=_("Redirect to page"), required=False)
    tags = blocks.CharBlock(
        label=_("Tags to apply"),
        required=False,
        max_length=255,
        help_text=_("Comma-separated tags added to the contact."),
    )
    journey_stage = blocks.ChoiceBlock(
        label=_("Journey stage"), choices=JourneyStage.choices, required=False
    )

    class Meta:
        icon = "form"
        label = _("Form")
        template = "wagtail_journey/blocks/form.html"

    def clean(self, value):
        value = super().clean(value)
        names = [field_name(f) for f in value["fields"]]
        emails = [f for f in value["fields"] if f.get("maps_to") == "email"]
        errors = {}
        if len(set(names)) != len(names):
            errors["fields"] = ValidationError(
                _("Two fields have the same name; give one a different label or field name.")
            )
        elif not emails and not any(f["field_type"] == "email" for f in value["fields"]):
            errors["fields"] = ValidationError(
                _("A form needs an email field to know who submitted it.")
            )
        if errors:
            raise blocks.StructBlockValidationError(block_errors=errors)
        return value

    def get_context(self, value, parent_context=None):
        from django.middleware.csrf import get_token

        from wagtail_journey.forms import build_form
        from wagtail_journey.serving import block_id_of, rendering_page, rendering_request, was_sent

        context = super().get_context(value, parent_context=parent_context)
        # {{ page.body }} passes no context: the page being served supplies the request.
        request = context.get("request") or rendering_request()
        page = context.get("page") or rendering_page()
        block_id = context.get("id") or block_id_of(value, page)
        bound = (context.get("journey_forms") or getattr(request, "_wj_forms", None) or {}).get(
            block_id
        )
        context["request"] = request
        context["form_id"] = block_id
        context["form_action"] = (request.path if request is not None else "") + f"#form-{block_id}"
        context["succeeded"] = bound is None and was_sent(request, block_id)
        if request is not None and "csrf_token" not in context:
            context["csrf_token"] = get_token(request)
        if bound is None and not context["succeeded"]:
            bound = build_form(value, block_id, request=request)
        context["form"] = bound
        return context
