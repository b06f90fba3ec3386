"""What a queued message says: code-built messages by key, or an editor's template.

An ``OutboundEmail`` names either a ``message`` key registered here (messages
the package or a site builds in code, such as the double opt-in confirmation)
or a template ``revision`` (rendered by emails/rendering.py). Both are rendered
at send time from the row's small context, so no HTML is ever stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class BuiltMessage:
    """The parts of one message, ready for anymail (same attributes as RenderedEmail)."""

    subject: str
    html: str
    text: str
    from_email: str = ""
    reply_to: tuple[str, ...] | list[str] = field(default_factory=tuple)


#: key -> callable(outbound, links) -> BuiltMessage; ``links`` holds at least
#: "unsubscribe" (the visitor-facing unsubscribe URL) for marketing messages
#: and "preferences" (the recipient's preference-centre link) for every message.
Builder = Callable[[Any, dict], BuiltMessage]
_builders: dict[str, str | Builder] = {
    "double_opt_in": "wagtail_journey.privacy.double_opt_in.build_confirmation",
    "data_export": "wagtail_journey.privacy.export.build_export_email",
    "preference_link": "wagtail_journey.privacy.preferences.build_link_message",
    "erasure_confirm": "wagtail_journey.privacy.preferences.build_erasure_message",
}
#: key -> what editors read in the outbox (the key itself is an identifier).
_labels: dict[str, Any] = {
    "double_opt_in": _("Double opt-in confirmation"),
    "data_export": _("Data export download link"),
    "preference_link": _("Preference centre link"),
    "erasure_confirm": _("Erasure confirmation"),
}


def register(key: str, builder: str | Builder, label: Any = None) -> None:
    """Register a code-built message under ``key`` (at most 32 characters).

    ``label`` (translatable) is what editors read in the outbox.
    """
    if not key or len(key) > 32:
        raise ValueError("A message key is 1 to 32 characters long.")
    _builders[key] = builder
    if label is not None:
        _labels[key] = label


def label_for(key: str) -> str:
    """The editor-facing name of a code-built message (its key when none was given)."""
    return str(_labels.get(key, key))


def builder_for(key: str) -> Builder | None:
    found = _builders.get(key)
    if isinstance(found, str):
        found = import_string(found)
        _builders[key] = found
    return found


class TemplateGone(Exception):
    """The row's template (revision) no longer exists."""


def build(outbound: Any, links: dict, *, track: bool = True) -> BuiltMessage:
    """Render ``outbound`` (an OutboundEmail) with its context.

    ``track=False`` (the admin's preview) leaves links as they are: a click in a
    preview must not count as the recipient's.
    """
    if outbound.message:
        builder = builder_for(outbound.message)
        if builder is None:
            raise TemplateGone(outbound.message)
        return builder(outbound, links)
    if outbound.revision_id is None:
        raise TemplateGone("revision")
    from wagtail_journey.emails import rendering
    from wagtail_journey.emails.clicks import tracked_url

    context = {
        **outbound.context,
        rendering.UNSUBSCRIBE_URL: links.get("unsubscribe", ""),
        rendering.PREFERENCES_URL: links.get("preferences", ""),
    }
    if outbound.contact_id is not None:
        from wagtail_journey.flows.referrals import referral_url

        context["referral_url"] = referral_url(outbound.contact_id)
    pk = outbound.pk
    # Called only for templates that track clicks (render_email decides).
    wrap = (lambda url: tracked_url(pk, url)) if track else None
    rendered = rendering.render_email(outbound.revision, context, wrap_link=wrap)
    variant = outbound.variant if outbound.variant_id is not None else None
    if variant is not None and variant.subject:  # an A/B variant's own subject
        rendered = replace(rendered, subject=rendering.render_subject(variant.subject, context))
    return rendered
