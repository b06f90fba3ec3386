"""What happened to the messages of a template, a broadcast or an A/B variant.

The numbers come from the OutboundEmail rows alone, in one GROUP BY query per
listing: a row's status says whether it was sent, delivered, bounced or
complained about, and its engagement columns say whether a person opened or
clicked it (``opened_at``, ``clicked_at``), whether a machine did
(``machine_opened``, ``machine_clicked``: scanners, privacy proxies, anything
events.is_machine_made flags) and whether it was unsubscribed from.
Those columns are a cache of the touchpoints (which stay the truth), written by
:func:`note_engagement` where the touchpoints are recorded: once per message,
so opens and clicks are *unique* (a person opening twice counts once), which
is what rates and A/B winners compare.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from wagtail_journey.models import BroadcastVariant, OutboundEmail
from wagtail_journey.models.outbound import OutboundStatus

#: Column key -> (heading, the rows it counts). Order = the order of the columns.
COLUMNS: dict[str, tuple[Any, Q]] = {
    "messages": (_("Messages"), Q()),
    "sent": (_("Sent"), Q(sent_at__isnull=False)),
    "delivered": (
        _("Delivered"),
        Q(status__in=[OutboundStatus.DELIVERED, OutboundStatus.COMPLAINED]),
    ),
    "opens": (_("Opened (people)"), Q(opened_at__isnull=False)),
    "clicks": (_("Clicked (people)"), Q(clicked_at__isnull=False)),
    "machine_opens": (_("Opened (machines)"), Q(machine_opened=True)),
    "machine_clicks": (_("Clicked (machines)"), Q(machine_clicked=True)),
    "bounces": (_("Bounced"), Q(status=OutboundStatus.BOUNCED)),
    "complaints": (_("Complaints"), Q(status=OutboundStatus.COMPLAINED)),
    "unsubscribes": (_("Unsubscribed"), Q(unsubscribed=True)),
    "skipped": (_("Skipped"), Q(status=OutboundStatus.SKIPPED)),
    "failed": (_("Failed"), Q(status__in=[OutboundStatus.FAILED, OutboundStatus.UNKNOWN])),
    "waiting": (
        _("Waiting"),
        Q(status__in=[OutboundStatus.PENDING, OutboundStatus.SENDING, OutboundStatus.HELD]),
    ),
}
#: Rates shown beside the counts: numerator column, over the messages sent.
RATES: dict[str, tuple[Any, str]] = {
    "open_rate": (_("Open rate"), "opens"),
    "click_rate": (_("Click rate"), "clicks"),
}


@dataclass
class Stats:
    """Counts of one group of messages (a template, a broadcast, a variant)."""

    label: str
    counts: dict[str, int]

    def rate(self, column: str) -> float:
        """``column`` over the messages sent (0.0 when none was sent)."""
        sent = self.counts.get("sent", 0)
        return self.counts.get(column, 0) / sent if sent else 0.0

    @property
    def rates(self) -> dict[str, float]:
        return {key: self.rate(column) for key, (_label, column) in RATES.items()}


def _aggregates() -> dict[str, Count]:
    return {key: Count("pk", filter=q) if q else Count("pk") for key, (_l, q) in COLUMNS.items()}


def totals(rows: QuerySet) -> dict[str, int]:
    """Every column for ``rows`` (OutboundEmail), in one query."""
    return rows.aggregate(**_aggregates())


def grouped(rows: QuerySet, field: str) -> dict[Any, dict[str, int]]:
    """Every column per value of ``field``, in one GROUP BY query."""
    return {
        values.pop(field): values
        for values in rows.order_by().values(field).annotate(**_aggregates())
    }


def for_template(template: Any) -> Stats:
    return Stats(str(template), totals(OutboundEmail.objects.filter(template=template)))


def for_broadcast(broadcast: Any) -> list[Stats]:
    """The broadcast as a whole, then one line per A/B variant (when it has any)."""
    rows = OutboundEmail.objects.filter(broadcast=broadcast)
    whole = Stats(str(_("All messages")), totals(rows))
    variants = list(
        BroadcastVariant.objects.filter(broadcast=broadcast).order_by("sort_order", "pk")
    )
    if not variants:
        return [whole]
    per = grouped(rows.filter(variant__isnull=False), "variant")
    empty = dict.fromkeys(COLUMNS, 0)
    return [whole, *(Stats(str(v), per.get(v.pk, empty)) for v in variants)]


def csv_rows(lines: Iterable[Stats]) -> Iterable[list]:
    """Header and one row per line, for safe_csv.writer."""
    yield [str(_("Messages of")), *(str(h) for h, _q in COLUMNS.values())] + [
        str(h) for h, _c in RATES.values()
    ]
    for line in lines:
        yield [line.label, *(line.counts.get(k, 0) for k in COLUMNS)] + [
            f"{value:.4f}" for value in line.rates.values()
        ]


def note_engagement(outbound_id: int, kind: str, machine: bool, when: datetime) -> None:
    """Mark a message opened, clicked or unsubscribed from (first time only).

    ``kind`` is the touchpoint kind just recorded; ``machine`` whether it was
    machine-made (events.is_machine_made). A conditional UPDATE: a replay or a
    second open changes nothing.
    """
    rows = OutboundEmail.objects.filter(pk=outbound_id)
    if kind == "email_opened":
        if machine:
            rows.filter(machine_opened=False).update(machine_opened=True)
        else:
            rows.filter(opened_at__isnull=True).update(opened_at=when)
    elif kind == "email_clicked":
        if machine:
            rows.filter(machine_clicked=False).update(machine_clicked=True)
        else:
            rows.filter(clicked_at__isnull=True).update(clicked_at=when)
    elif kind == "unsubscribed":
        rows.filter(unsubscribed=False).update(unsubscribed=True)
