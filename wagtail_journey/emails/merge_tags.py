"""Merge tags: ``{{ first_name|default:"there" }}`` in an editor's email text.

Editors write text, never template code: a tag names one field of a short
whitelist and may give a fallback. This module parses that one form itself;
editor text never reaches Django's template engine, so ``{% load %}``,
attribute lookups or filters other than ``default`` cannot run anything.
An unknown field, filter or a malformed tag is an error naming the tag,
raised when the editor saves (see :func:`validate`).

Values are inserted once, after the text was parsed: a contact whose name is
``{{ email }}`` gets that literal text, not someone's address.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

#: The contact fields an editor may use, with the label the admin shows.
FIELDS: dict[str, Any] = {
    "first_name": _("First name"),
    "last_name": _("Last name"),
    "full_name": _("Full name"),
    "email": _("Email address"),
    # Computed when the message is rendered (flows/referrals.py), never stored.
    "referral_url": _("Personal referral link"),
}

#: Longest fallback text (a greeting, not a paragraph).
MAX_DEFAULT = 100

_OPEN, _CLOSE = "{{", "}}"
# Inside the braces: a name, then optionally |default:"text" (straight, single
# or typographic quotes, as editors type them).
_INNER = re.compile(
    r"""^\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*
    (?:\|\s*(?P<filter>[A-Za-z_][A-Za-z0-9_]*)\s*
       (?::\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|\u201c(?P<tq>[^\u201d]*)\u201d))?\s*)?$""",
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class Tag:
    """One merge tag: the field it names and its fallback (plain text)."""

    name: str
    default: str = ""

    def value(self, context: dict[str, Any]) -> str:
        """The contact's value, or the fallback when it is empty or missing."""
        value = context.get(self.name)
        if value is None or value == "":
            return self.default
        return str(value)


class MergeTagError(ValidationError):
    """A tag that is not allowed; the message names it (translated)."""


def _source(text: str, start: int, end: int) -> str:
    snippet = text[start:end]
    return snippet if len(snippet) <= 60 else snippet[:57] + "..."


def parse(text: str, *, is_html: bool = False) -> list[str | Tag]:
    """Split ``text`` into literal strings and :class:`Tag` objects.

    ``is_html``: the text is HTML (rich text); entities inside a tag are decoded
    first (the rich text editor stores ``"`` as ``&quot;``), the literal parts
    are returned as they are (still HTML).
    Raises :class:`MergeTagError` for anything between ``{{`` and ``}}`` that
    is not a known field with an optional ``default``.
    """
    parts: list[str | Tag] = []
    pos = 0
    while True:
        start = text.find(_OPEN, pos)
        if start < 0:
            break
        end = text.find(_CLOSE, start + 2)
        if end < 0:
            raise MergeTagError(
                _("A merge tag is not closed: %(tag)s (write it as {{ first_name }}).")
                % {"tag": _source(text, start, len(text))},
                code="merge_tag_unclosed",
            )
        inner = text[start + 2 : end]
        source = _source(text, start, end + 2)
        if is_html:
            if "<" in inner:
                raise MergeTagError(
                    _("Remove the formatting inside the merge tag %(tag)s.")
                    % {"tag": html.unescape(re.sub(r"<[^>]*>", "", source))},
                    code="merge_tag_formatting",
                )
            inner = html.unescape(inner)
            source = html.unescape(source)
        parts.append(text[pos:start])
        parts.append(_tag(inner, source))
        pos = end + 2
    parts.append(text[pos:])
    return [p for p in parts if p != ""]


def _tag(inner: str, source: str) -> Tag:
    match = _INNER.match(inner.replace("\u00a0", " "))
    if match is None:
        raise MergeTagError(
            _('The merge tag %(tag)s is not valid. Write it as {{ first_name|default:"there" }}.')
            % {"tag": source},
            code="merge_tag_invalid",
        )
    name = match["name"]
    if name not in FIELDS:
        raise MergeTagError(
            _("Unknown merge tag %(tag)s. Available: %(fields)s.")
            % {"tag": source, "fields": ", ".join(FIELDS)},
            code="merge_tag_unknown",
        )
    flt = match["filter"]
    default = next((g for g in (match["dq"], match["sq"], match["tq"]) if g is not None), None)
    if flt is not None and flt != "default":
        raise MergeTagError(
            _("The merge tag %(tag)s uses '%(filter)s'; only 'default' is available.")
            % {"tag": source, "filter": flt},
            code="merge_tag_filter",
        )
    if flt == "default" and default is None:
        raise MergeTagError(
            _('The merge tag %(tag)s needs a text in quotes after default:, e.g. default:"there".')
            % {"tag": source},
            code="merge_tag_default",
        )
    default = default or ""
    if len(default) > MAX_DEFAULT or "{{" in default or "\n" in default:
        raise MergeTagError(
            _("The fallback text of %(tag)s must be one short line (at most %(max)s characters).")
            % {"tag": source, "max": MAX_DEFAULT},
            code="merge_tag_default",
        )
    return Tag(name, default)


def validate(text: str, *, is_html: bool = False) -> None:
    """Raise a ValidationError naming the first tag that is not allowed."""
    if text and _OPEN in text:
        parse(text, is_html=is_html)


def validate_plain(text: str) -> None:
    """Model-field validator for plain text (subject, preheader)."""
    validate(text)


def render(parts: list[str | Tag], context: dict[str, Any], *, escape: bool) -> str:
    """Join parsed ``parts`` with ``context``'s values (HTML-escaped if ``escape``).

    Literal parts are inserted as they are; used for short texts. Whole emails
    are compiled once and personalised by emails.rendering instead.
    """
    out = []
    for part in parts:
        if isinstance(part, Tag):
            value = part.value(context)
            out.append(html.escape(value) if escape else value)
        else:
            out.append(part)
    return "".join(out)
