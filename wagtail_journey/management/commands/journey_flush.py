"""Store what the tracking buffer holds, or wait for the workers to (TRACKING_BUFFER).

    manage.py journey_flush             # flush now, in this process
    manage.py journey_flush --wait 60   # wait until the workers emptied it

Useful before a deploy that stops the workers, and for benchmarks that count
what was stored.
"""

import time

from django.core.management.base import BaseCommand, CommandError

from wagtail_journey.tracking import buffer


class Command(BaseCommand):
    help = "Flush the tracking buffer now, or wait until the workers have emptied it."

    def add_arguments(self, parser):
        parser.add_argument(
            "--wait",
            type=float,
            metavar="SECONDS",
            help="do not flush: wait up to SECONDS for the workers to empty the buffer",
        )

    def handle(self, *args, wait=None, **options):
        if not buffer.enabled():
            raise CommandError("TRACKING_BUFFER is not set: there is no buffer to flush.")
        if wait is None:
            stored = buffer.drain()
            self.stdout.write(f"stored {stored} touchpoints")
            return
        deadline = time.monotonic() + wait
        while buffer.pending() or buffer.in_flight():
            if time.monotonic() > deadline:
                raise CommandError(
                    f"the buffer still holds {buffer.pending()} items and "
                    f"{buffer.in_flight()} batches in flight after {wait:g} s"
                )
            time.sleep(0.1)
        self.stdout.write("the buffer is empty")
