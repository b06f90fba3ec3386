"""How the admin shows derived values: one date format, touches and kinds in
words, page titles instead of ids (issue 9, item 20). Formatting only."""

from __future__ import annotations

from datetime import datetime

from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from wagtail_journey.kinds import kind_label


def when(value: datetime | str | None) -> str:
    """Every date and time editors read, in the one format the listings use."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if not value:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return formats.date_format(value, "DATETIME_FORMAT")


def page_titles(page_ids) -> dict[int, str]:
    """Titles of these pages in one query (a deleted page has none)."""
    from wagtail.models import Page

    ids = {int(i) for i in page_ids if isinstance(i, int) or str(i).isdigit()}
    if not ids:
        return {}
    return dict(Page.objects.filter(pk__in=ids).values_list("pk", "title"))


def touch_text(touch: dict | None, titles: dict[int, str] | None = None) -> str:
    """A first/last touch as a sentence: "google / cpc, campaign “spring”, on
    “Pricing” (Page view, 1 Dec 2026, 14:22)"; '' for none."""
    if not touch:
        return ""
    parts = []
    source = " / ".join(str(touch[k]) for k in ("source", "medium") if touch.get(k))
    if source:
        parts.append(source)
    for key, label in (("campaign", _("campaign")), ("term", _("term")), ("content", _("content"))):
        if touch.get(key):
            parts.append(f"{label} “{touch[key]}”")
    if touch.get("referrer") and touch.get("referrer") != touch.get("source"):
        parts.append(_("from %(referrer)s") % {"referrer": touch["referrer"]})
    page = touch.get("page")
    if page is not None:
        title = (titles if titles is not None else page_titles([page])).get(page)
        parts.append(_("on “%(title)s”") % {"title": title} if title else _("on a deleted page"))
    details = [kind_label(touch["kind"])] if touch.get("kind") else []
    if touch.get("at"):
        details.append(when(touch["at"]))
    text = ", ".join(parts) or _("direct")
    return f"{text} ({', '.join(details)})" if details else text


def properties_text(properties: dict | None) -> str:
    """Event properties as "key: value" pairs, nested values flattened."""
    if not properties:
        return ""
    return "; ".join(f"{key}: {_scalar(value)}" for key, value in properties.items())


def _scalar(value) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {_scalar(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_scalar(v) for v in value)
    if value is True:
        return _("yes")
    if value is False:
        return _("no")
    return "" if value is None else str(value)
