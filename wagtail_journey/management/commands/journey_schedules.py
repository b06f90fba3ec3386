"""Create or update the django-q2 schedules of wagtail_journey (idempotent)."""

from django.core.management.base import BaseCommand

from wagtail_journey.schedules import ensure_schedules


class Command(BaseCommand):
    help = "Create or update wagtail_journey's django-q2 schedules (safe to run on every deploy)."

    def handle(self, *args, **options):
        for name, created in ensure_schedules():
            self.stdout.write(f"{'created' if created else 'updated'}: {name}")
