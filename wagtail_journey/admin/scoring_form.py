"""The scoring rule form: forms chosen by page and name, kinds offered by label.

A rule stores a form's block id (stable across edits) and a touchpoint kind
(a short string). Editors never see either raw: the form field lists the
site's forms under their pages, the kind field suggests every known kind, and
saving a rule on a kind never recorded warns (a typo scores nothing), without
refusing it (a custom event may simply not have happened yet).
"""

from __future__ import annotations

from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from wagtail_journey.admin.base_form import JourneyAdminForm
from wagtail_journey.kinds import is_known_kind, kind_choices, kind_label
from wagtail_journey.pages import site_forms


class KindInput(forms.TextInput):
    """A text box with the known kinds as suggestions (labels shown)."""

    def render(self, name, value, attrs=None, renderer=None):
        list_id = f"{(attrs or {}).get('id') or name}-kinds"
        attrs = {**(attrs or {}), "list": list_id, "autocomplete": "off"}
        options = format_html_join(
            "", '<option value="{}">{}</option>', ((k, label) for k, label in kind_choices())
        )
        box = super().render(name, value, attrs, renderer)
        return format_html('{}<datalist id="{}">{}</datalist>', box, list_id, options)


def form_choices(current: str = "") -> list:
    """("", any form), then the site's forms grouped under their page titles."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for page, key, name in site_forms():
        groups.setdefault(page.title, []).append((key, name or gettext("(unnamed form)")))
    choices: list = [("", gettext("Any form"))]
    if current and not any(current == key for items in groups.values() for key, _n in items):
        choices.append((current, gettext("A form no longer on the site")))
    return choices + list(groups.items())


class ScoringRuleForm(JourneyAdminForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].widget = KindInput()
        self.fields["kind"].help_text = _(
            "What the contact did: pick a suggestion, or type the name of a custom event "
            "your site sends."
        )
        self.fields["form"] = forms.ChoiceField(
            label=_("Form"),
            required=False,
            choices=form_choices(self.instance.form),
            help_text=_("Only submissions of this form (for the kind “Form submitted”)."),
        )

    def unknown_kind_warning(self) -> str:
        """'' or why the rule may never score: its kind was never recorded."""
        kind = self.cleaned_data.get("kind", "")
        if not kind or is_known_kind(kind):
            return ""
        return gettext(
            "No “%(kind)s” event has been recorded on this site yet: check the spelling. "
            "The rule will score once such events arrive."
        ) % {"kind": kind_label(kind)}
