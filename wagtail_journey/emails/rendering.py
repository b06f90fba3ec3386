"""Render an email template for one contact: MJML once per revision, values per contact.

Turning blocks into MJML and MJML into mail-client HTML (mjml-python, the
Rust MRML binding) costs milliseconds; a broadcast renders the same revision
for thousands of contacts. So a revision is *compiled* once (and cached per
process, revisions never change): its blocks become MJML and a plain-text
part in which every merge tag and every link is a random marker; after MJML
and the text conversion ran, the output is cut at the markers into a list of
literal strings and slots. Personalising is then filling the slots and one
``str.join`` per part: each contact value HTML-escaped in the HTML part and
raw in the text part, each link passed through ``wrap_link`` once.

Editor text never reaches a template engine: merge tags are parsed by
emails.merge_tags, values are inserted after parsing (a value is never
parsed again), and markers carry a random nonce per compilation, so no
editor or contact text can forge one.
"""

from __future__ import annotations

import functools
import html
import re
import secrets
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formataddr, parseaddr
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from wagtail_journey.conf import journey_settings
from wagtail_journey.emails import merge_tags
from wagtail_journey.emails.merge_tags import Tag
from wagtail_journey.links import absolute_url

#: Context keys filled by the delivery side, never by editors' merge tags.
UNSUBSCRIBE_URL = "unsubscribe_url"
PREFERENCES_URL = "preferences_url"

_CACHE_SIZE = 64
_cache: OrderedDict[int, CompiledEmail] = OrderedDict()

_HREF = re.compile(r'(<a\b[^>]*?\bhref=")([^"]*)(")', re.IGNORECASE)
_SRC = re.compile(r'(<img\b[^>]*?\bsrc=")(/[^/"][^"]*)(")', re.IGNORECASE)


class NotPublished(ValueError):
    """The template has no published revision: there is nothing to send yet."""


class RenderError(ValueError):
    """MJML refused the layout (e.g. broken HTML in an imported rich text)."""


# Characters XML (and so MJML) does not allow, which pasted text may carry.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class RenderedEmail:
    """One personalised message, ready for an EmailMultiAlternatives."""

    subject: str
    preheader: str
    html: str
    text: str
    from_email: str
    reply_to: list[str]
    revision_id: int | None


# --- slots -----------------------------------------------------------------------------

_TAG, _LINK, _URL = 0, 1, 2


@dataclass(frozen=True)
class _Slot:
    kind: int
    tag: Tag | None = None
    url: str = ""  # a link's target, or the context key of a _URL slot


@dataclass
class _Part:
    """A compiled text: literals with holes at ``holes`` (position, slot index)."""

    pieces: list[str]
    holes: list[tuple[int, int]]

    def fill(self, values: list[str]) -> str:
        pieces = self.pieces.copy()
        for pos, slot in self.holes:
            pieces[pos] = values[slot]
        return "".join(pieces)


@dataclass
class CompiledEmail:
    """A revision turned into text with holes; :meth:`personalise` fills them."""

    subject: list[str | Tag]
    preheader: list[str | Tag]
    html: _Part
    text: _Part
    slots: list[_Slot]
    from_email: str
    reply_to: list[str]
    track_clicks: bool
    revision_id: int | None

    @property
    def links(self) -> list[str]:
        """The web links of the template, as the editor wrote them (made absolute)."""
        return [s.url for s in self.slots if s.kind == _LINK]

    def personalise(
        self, context: dict[str, Any], wrap_link: Callable[[str], str] | None = None
    ) -> RenderedEmail:
        wrap = wrap_link if self.track_clicks else None
        html_values: list[str] = []
        text_values: list[str] = []
        for slot in self.slots:
            if slot.kind == _TAG:
                value = slot.tag.value(context)
                html_values.append(html.escape(value))
                text_values.append(value)
            elif slot.kind == _LINK:
                url = wrap(slot.url) if wrap is not None else slot.url
                html_values.append(html.escape(url))
                text_values.append(url)
            else:
                url = str(context.get(slot.url) or "#")
                html_values.append(html.escape(url))
                text_values.append(url)
        return RenderedEmail(
            subject=_one_line(merge_tags.render(self.subject, context, escape=False)),
            preheader=_one_line(merge_tags.render(self.preheader, context, escape=False)),
            html=self.html.fill(html_values),
            text=self.text.fill(text_values),
            from_email=self.from_email,
            reply_to=self.reply_to,
            revision_id=self.revision_id,
        )


def _one_line(value: str) -> str:
    """Headers are one line: a value with line breaks must not add headers."""
    return " ".join(value.split()) if ("\n" in value or "\r" in value) else value


# --- public API ------------------------------------------------------------------------


def render_email(
    template_or_revision: Any,
    context: dict[str, Any],
    *,
    wrap_link: Callable[[str], str] | None = None,
) -> RenderedEmail:
    """Render a template revision for one recipient.

    ``template_or_revision``: a wagtail ``Revision`` of an EmailTemplate (what
    the delivery side stores per message), or an EmailTemplate, which renders
    its live (published) revision and raises :class:`NotPublished` without
    one. ``context``: :func:`personalisation_context` of the contact, plus
    ``unsubscribe_url`` for marketing templates. ``wrap_link(url)`` is called
    once per distinct link when the template tracks clicks.
    """
    return compiled(template_or_revision).personalise(context, wrap_link)


@functools.lru_cache(maxsize=256)
def _parsed_subject(text: str) -> tuple:
    return tuple(merge_tags.parse(text))


def render_subject(text: str, context: dict[str, Any]) -> str:
    """A subject line written outside a template (an A/B variant's), personalised."""
    return _one_line(merge_tags.render(list(_parsed_subject(text)), context, escape=False))


def personalisation_context(contact: Any) -> dict[str, str]:
    """The small dict an outbound message stores to be rendered (again) later:
    the contact's merge-tag fields that have a value."""
    values = {
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "full_name": contact.full_name,
        "email": contact.email,
    }
    return {k: v for k, v in values.items() if k in merge_tags.FIELDS and v}


def compiled(template_or_revision: Any) -> CompiledEmail:
    """The compiled form of a revision (cached) or of a template's live revision."""
    from wagtail.models import Revision

    from wagtail_journey.models import EmailTemplate

    if isinstance(template_or_revision, EmailTemplate):
        revision_id = template_or_revision.live_revision_id
        if revision_id is None or not template_or_revision.live:
            raise NotPublished(f"Email template {template_or_revision.pk} is not published.")
        found = _cache.get(revision_id)
        if found is not None:
            _cache.move_to_end(revision_id)
            return found
        revision = Revision.objects.get(pk=revision_id)
    elif isinstance(template_or_revision, Revision):
        revision = template_or_revision
    else:
        raise TypeError("render_email() takes an EmailTemplate or one of its revisions.")
    found = _cache.get(revision.pk)
    if found is not None:
        _cache.move_to_end(revision.pk)
        return found
    result = compile_email(revision.as_object(), revision_id=revision.pk)
    _cache[revision.pk] = result
    while len(_cache) > _CACHE_SIZE:
        _cache.popitem(last=False)
    return result


def clear_cache() -> None:
    _cache.clear()


def sender(template: Any) -> str:
    """The From header: the template's name and address, else the site's sender."""
    fallback = journey_settings.FROM_EMAIL or settings.DEFAULT_FROM_EMAIL
    address = template.from_email or parseaddr(fallback)[1]
    if template.from_name:
        return formataddr((template.from_name, address))
    return address if template.from_email else fallback


def compile_email(template: Any, *, revision_id: int | None = None) -> CompiledEmail:
    """Compile ``template`` (an EmailTemplate instance, saved or not: previews
    compile the editor's unsaved form) into text with holes."""
    from mjml import mjml2html

    from wagtail_journey.emails.layout import build

    builder = _Builder()
    with translation.override(template.language or settings.LANGUAGE_CODE):
        subject = merge_tags.parse(template.subject or "")
        preheader = merge_tags.parse(template.preheader or "")
        mjml_source, text_html = build(template, builder, subject, preheader)
    from inscriptis import get_text
    from inscriptis.model.config import ParserConfig

    try:
        html_out = mjml2html(_CONTROL.sub("", mjml_source), disable_comments=True, fonts={})
    except ValueError as exc:
        raise RenderError(
            _("The email could not be laid out (%(error)s). Check the formatting of its texts.")
            % {"error": exc}
        ) from exc
    text_out = get_text(_CONTROL.sub("", text_html), ParserConfig(display_links=True))
    text_out = text_out.strip() + "\n"
    return CompiledEmail(
        subject=subject,
        preheader=preheader,
        html=builder.split(html_out),
        text=builder.split(text_out),
        slots=builder.slots,
        from_email=sender(template),
        reply_to=[template.reply_to] if template.reply_to else [],
        track_clicks=bool(template.track_clicks),
        revision_id=revision_id,
    )


class _Builder:
    """Hands out markers for merge tags and links while blocks become MJML."""

    def __init__(self) -> None:
        self.nonce = secrets.token_hex(6)
        self.slots: list[_Slot] = []
        self._index: dict[_Slot, int] = {}
        self._marker = re.compile(f"wj{self.nonce}s([0-9]+)e")

    def _slot(self, slot: _Slot) -> str:
        index = self._index.get(slot)
        if index is None:
            index = self._index[slot] = len(self.slots)
            self.slots.append(slot)
        return f"wj{self.nonce}s{index}e"

    def tag(self, tag: Tag) -> str:
        return self._slot(_Slot(_TAG, tag=tag))

    def link(self, url: str) -> str:
        """A marker for ``url`` (made absolute); mailto: and tel: stay as they
        are, any other scheme (javascript:, data:) becomes a dead "#"."""
        url = absolute_url(url.strip())
        lowered = url.lower()
        if lowered.startswith(("http://", "https://")):
            return self._slot(_Slot(_LINK, url=url))
        if lowered.startswith(("mailto:", "tel:")):
            return html.escape(url)
        return "#"

    def context_url(self, key: str) -> str:
        return self._slot(_Slot(_URL, url=key))

    def text(self, parts: list[str | Tag]) -> str:
        """Parsed plain text as HTML: literals escaped, tags as markers."""
        return "".join(self.tag(p) if isinstance(p, Tag) else html.escape(p) for p in parts)

    def plain(self, value: str) -> str:
        """An editor's plain text with merge tags, as HTML."""
        return self.text(merge_tags.parse(value or ""))

    def rich(self, source: str) -> str:
        """Rich text (as stored) as email HTML: links absolute and marked, tags marked."""
        from wagtail.rich_text import expand_db_html

        expanded = expand_db_html(source or "")
        expanded = _SRC.sub(lambda m: m[1] + html.escape(absolute_url(m[2])) + m[3], expanded)
        expanded = _HREF.sub(lambda m: m[1] + self.link(html.unescape(m[2])) + m[3], expanded)
        parts = merge_tags.parse(expanded, is_html=True)
        return "".join(self.tag(p) if isinstance(p, Tag) else p for p in parts)

    def split(self, output: str) -> _Part:
        chunks = self._marker.split(output)
        pieces: list[str] = []
        holes: list[tuple[int, int]] = []
        for i, chunk in enumerate(chunks):
            if i % 2:
                holes.append((len(pieces), int(chunk)))
                pieces.append("")
            elif chunk:
                pieces.append(chunk)
        return _Part(pieces, holes)


def sample_context() -> dict[str, str]:
    """Made-up values for previews without a chosen contact."""
    return {
        "first_name": _("Ana"),
        "last_name": _("Example"),
        "full_name": _("Ana Example"),
        "email": "ana@example.com",
    }
