"""Apply the privacy retention periods now (the daily schedule's work), or --dry-run."""

from django.core.management.base import BaseCommand

from wagtail_journey.privacy.retention import purge


class Command(BaseCommand):
    help = (
        "Apply the retention periods set in WAGTAIL_JOURNEY (inactive contacts, form "
        "submissions, outbound emails, audit entries, export files). --dry-run says what "
        "would go and changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, dry_run, **options):
        counts = purge(dry_run=dry_run)
        if not counts:
            self.stdout.write("No retention period is set: nothing to do.")
        for name, count in counts.items():
            verb = "would go" if dry_run else "gone"
            self.stdout.write(f"{name}: {count} {verb}")
