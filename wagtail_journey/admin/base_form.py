"""The base of the package's admin model forms."""

from __future__ import annotations

from django import forms
from django.utils.text import capfirst
from wagtail.admin.forms import WagtailAdminModelForm


class JourneyAdminForm(WagtailAdminModelForm):
    """Choice labels start with a capital in forms, as Wagtail's own do (the
    models keep them lowercase where they read as part of a sentence)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if (
                isinstance(field, forms.ChoiceField)
                and not isinstance(field, forms.ModelChoiceField)  # names, not labels
                and not callable(field.choices)
            ):
                field.choices = [(value, _cap(label)) for value, label in field.choices]


def _cap(label):
    if isinstance(label, list | tuple):  # an optgroup
        return [(value, capfirst(text)) for value, text in label]
    return capfirst(label)
