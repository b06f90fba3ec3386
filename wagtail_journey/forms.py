"""Build and validate a Django form from a form block's value.

The form carries three machine fields besides the editor's ones:
``wj_form`` (which block), ``wj_ts`` (a signed token with the render time and
the consent versions shown, for the minimum fill time and the proof of what
was displayed) and ``wj_hp`` (a honeypot humans never see).
"""

from __future__ import annotations

import re
import secrets
import time
from typing import Any

from django import forms
from django.core import signing
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.validators import MaxLengthValidator, RegexValidator
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from wagtail.rich_text import expand_db_html

from wagtail_journey.blocks.form import choice_list, field_name
from wagtail_journey.conf import journey_settings
from wagtail_journey.identity import EmailAddressField, clean_email
from wagtail_journey.models import Contact

TOKEN_SALT = "wagtail_journey.form"  # noqa: S105 (a signing namespace, not a secret)

MAX_LENGTHS = {
    "singleline": 255,
    "email": 254,
    "phone": 32,
    "multiline": 5000,
    "hidden": 255,
}


def no_line_breaks(value: Any) -> None:
    """Single-line values end up in email headers and subjects: no CR/LF."""
    if isinstance(value, str) and ("\r" in value or "\n" in value):
        raise ValidationError(_("Line breaks are not allowed here."), code="line_break")


def no_nul(value: Any) -> None:
    if isinstance(value, str) and "\x00" in value:
        raise ValidationError(_("This value contains invalid characters."), code="nul")


def contact_email_validator(value: Any) -> None:
    """The address as it will be stored (normalised) must be valid and fit its column."""
    if value:
        clean_email(value)


def column_limit(maps_to: str | None) -> int | None:
    """Length of the contact column an answer is copied to (None: not copied, or unbounded)."""
    if not maps_to:
        return None
    try:
        return Contact._meta.get_field(maps_to).max_length
    except FieldDoesNotExist:
        return None


phone_validator = RegexValidator(
    r"^\+?[0-9 ().\-/]{3,32}$", _("Enter a valid phone number."), code="invalid_phone"
)


def inline_html(html: str) -> str:
    """Rich text as phrasing content for a ``<label>`` (which must not hold ``<p>``):
    paragraphs become line breaks, so the text stays beside its checkbox."""
    html = re.sub(r"</p>\s*<p\b[^>]*>", "<br>", html.strip())
    return re.sub(r"</?p\b[^>]*>", "", html)


def consent_field_name(key: str) -> str:
    return f"consent_{key}"


def make_token(consent_versions: dict[str, int]) -> str:
    """The signed render token: time, consent versions shown and a nonce.

    The nonce makes one rendered form acceptable once: the submission stores
    it under a unique constraint (FormSubmission.render_token).
    """
    payload = {"t": int(time.time()), "v": consent_versions, "n": secrets.token_urlsafe(12)}
    return signing.dumps(payload, salt=TOKEN_SALT)


class JourneyForm(forms.Form):
    """Base of every generated form; see module docstring for the machine fields."""

    wj_form = forms.CharField(widget=forms.HiddenInput, max_length=64)
    wj_ts = forms.CharField(widget=forms.HiddenInput, max_length=1000, required=False)
    wj_hp = forms.CharField(
        required=False,
        label=_("Leave this field empty"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    block_value: Any = None
    purposes: list = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.shown_versions: dict[str, int] = {}
        self.token_nonce = ""

    @property
    def editor_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if not name.startswith(("wj_", "consent_"))]

    @property
    def consent_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith("consent_")]

    def clean_wj_hp(self) -> str:
        if self.cleaned_data.get("wj_hp"):
            raise ValidationError(
                _("Your submission looks automated. Please try again."), code="honeypot"
            )
        return ""

    def clean_wj_ts(self) -> dict:
        raw = self.cleaned_data.get("wj_ts") or ""
        max_age = journey_settings.FORM_MAX_AGE_HOURS * 3600
        try:
            token = signing.loads(raw, salt=TOKEN_SALT, max_age=max_age)
        except signing.SignatureExpired:
            raise ValidationError(
                _("This form has expired. Please check your answers and submit it again."),
                code="expired",
            ) from None
        except signing.BadSignature:
            raise ValidationError(
                _("This form could not be verified. Please submit it again."), code="bad_token"
            ) from None
        if time.time() - token.get("t", 0) < journey_settings.FORM_MIN_FILL_SECONDS:
            raise ValidationError(
                _("That was quick! Please take a moment to check your answers and submit again."),
                code="too_fast",
            )
        nonce = token.get("n")
        if not isinstance(nonce, str) or not nonce:
            raise ValidationError(
                _("This form could not be verified. Please submit it again."), code="bad_token"
            )
        self.token_nonce = nonce[:32]
        self.shown_versions = {str(k): int(v) for k, v in (token.get("v") or {}).items()}
        return token

    def add_error(self, field, error):
        # Token problems are the visitor's whole form, not a hidden field's.
        if field in ("wj_ts", "wj_hp"):
            field = None
        super().add_error(field, error)

    def refresh_token(self) -> None:
        """After an error, hand the visitor a fresh token (their input stays)."""
        if self.is_bound:
            data = self.data.copy()
            data["wj_ts"] = make_token({p.key: p.version for p in self.purposes})
            self.data = data


def build_form(value: Any, block_id: str, data: Any = None, request: Any = None) -> JourneyForm:
    """An instance of the form described by a FormBlock value (bound if ``data``)."""
    fields: dict[str, forms.Field] = {}
    for field_value in value["fields"]:
        fields[field_name(field_value)] = _make_field(field_value)
    purposes = [p for p in (value.get("consents") or []) if p is not None]
    for purpose in purposes:
        fields[consent_field_name(purpose.key)] = forms.BooleanField(
            required=purpose.required,
            initial=False,  # never pre-ticked (CJEU Planet49)
            label=mark_safe(inline_html(expand_db_html(purpose.text))),  # noqa: S308 (editor rich text)
            error_messages={"required": _("Please tick this box to continue.")},
        )
    form_class = type("GeneratedJourneyForm", (JourneyForm,), fields)
    form_class.block_value = value
    form_class.purposes = purposes
    initial = {
        "wj_form": block_id,
        "wj_ts": make_token({p.key: p.version for p in purposes}),
    }
    form = form_class(data=data, initial=initial, auto_id=f"wj-{block_id[:8]}-%s")
    return form


def _make_field(v: Any) -> forms.Field:
    kind = v["field_type"]
    common = {
        "label": v["label"],
        "required": bool(v.get("required")),
        "help_text": v.get("help_text") or "",
        "initial": v.get("default_value") or None,
    }
    max_length = MAX_LENGTHS.get(kind)
    validators = [no_nul]
    # An answer copied to the contact must fit the column it fills.
    limit = column_limit(v.get("maps_to"))
    if limit is not None:
        max_length = min(max_length or limit, limit)
    if kind in ("singleline", "email", "phone", "hidden"):
        validators.append(no_line_breaks)
    if kind == "email":
        # Validated as it will be stored (normalised), kept on the submission as typed.
        validators.append(contact_email_validator)
        return EmailAddressField(
            keep_typed=True, max_length=max_length, validators=validators, **common
        )
    if kind == "phone":
        return forms.CharField(
            max_length=max_length,
            validators=[*validators, phone_validator],
            widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
            **common,
        )
    if kind == "multiline":
        return forms.CharField(
            max_length=max_length, validators=validators, widget=forms.Textarea, **common
        )
    if kind == "number":
        return forms.DecimalField(max_digits=20, decimal_places=6, **common)
    if kind == "date":
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if kind in ("dropdown", "radio"):
        if limit is not None:
            common["validators"] = [MaxLengthValidator(limit)]
        choices = [(c, c) for c in choice_list(v)]
        if kind == "dropdown":
            choices = [("", "---------"), *choices]
            widget = forms.Select
        else:
            widget = forms.RadioSelect
        return forms.ChoiceField(choices=choices, widget=widget, **common)
    if kind == "checkbox":
        common["initial"] = False
        return forms.BooleanField(**common)
    if kind == "hidden":
        return forms.CharField(
            max_length=max_length, validators=validators, widget=forms.HiddenInput, **common
        )
    return forms.CharField(max_length=max_length, validators=validators, **common)
