"""Recompute every contact's score (and journey stage) from the log."""

from django.core.management.base import BaseCommand

from wagtail_journey.scoring import replay_rules, sync_scores_from_ledger
from wagtail_journey.stages import rebuild_journey_stages


class Command(BaseCommand):
    help = (
        "Set every contact's score to the sum of its ledger (ScoreChange rows) plus its "
        "share of each decay run, replayed in order. With --replay, first rebuild the rule "
        "rows of the ledger from the touchpoints using the scoring rules as they are now "
        "(manual rows and decay runs are kept)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--replay",
            action="store_true",
            help="Re-apply the current scoring rules to every touchpoint first.",
        )

    def handle(self, *args, replay=False, **options):
        if replay:
            made = replay_rules()
            self.stdout.write(f"Replayed scoring rules: {made} ledger rows.")
        fixed = sync_scores_from_ledger()
        stages = rebuild_journey_stages()
        self.stdout.write(
            self.style.SUCCESS(
                f"Scores synced from the ledger ({fixed} changed); "
                f"journey stages recomputed ({stages} contacts)."
            )
        )
