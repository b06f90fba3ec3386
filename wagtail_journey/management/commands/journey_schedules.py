"""Create wagtail_journey's django-q2 schedules (idempotent; also runs after migrate)."""

from django.core.management.base import BaseCommand

from wagtail_journey.tracking.retention import SCHEDULE_NAME, ensure_schedule


class Command(BaseCommand):
    help = "Create wagtail_journey's recurring django-q2 schedules if they are missing."

    def handle(self, *args, **options):
        created = ensure_schedule()
        state = "created" if created else "already present"
        self.stdout.write(f"{SCHEDULE_NAME}: {state}")
