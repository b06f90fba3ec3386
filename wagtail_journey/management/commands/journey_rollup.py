"""Recompute the report roll-ups of a range of days (idempotent)."""

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError

from wagtail_journey.reports.rollup import local_today, rollup_range


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"Not a date (YYYY-MM-DD): {value!r}") from exc


class Command(BaseCommand):
    help = (
        "Recompute the daily report tables from the touchpoint log: the last --days days "
        "(default 2: yesterday and today), or --from/--to (site-local days, inclusive)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=2)
        parser.add_argument("--from", dest="start", type=_day)
        parser.add_argument("--to", dest="end", type=_day)

    def handle(self, *args, days, start, end, **options):
        if days < 1:
            raise CommandError("--days must be at least 1.")
        end = end or local_today()
        start = start or end - timedelta(days=days - 1)
        if start > end:
            raise CommandError("--from is after --to.")
        count = rollup_range(start, end)
        self.stdout.write(f"Rolled up {count} day(s): {start} to {end}.")
