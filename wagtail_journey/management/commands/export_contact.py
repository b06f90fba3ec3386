"""Write everything held about a contact to a zip (JSON + CSV), or email them a link."""

import sys

from django.core.management.base import BaseCommand

from wagtail_journey.management.commands._privacy import find_contact
from wagtail_journey.privacy import audit
from wagtail_journey.privacy.export import request_export, write_export


class Command(BaseCommand):
    help = (
        "Export a contact's data (id or email address) as a zip: data.json (see the "
        "published schema) and one CSV per section. --output - writes to standard output; "
        "--email sends the contact a single-use download link instead."
    )

    def add_arguments(self, parser):
        parser.add_argument("contact", help="The contact's id or email address.")
        parser.add_argument("--output", "-o", default=None, help="File to write (- for stdout).")
        parser.add_argument("--email", action="store_true", help="Email the contact a link.")

    def handle(self, *args, contact, output, email, **options):
        found = find_contact(contact)
        if email:
            request_export(found, via="command")
            self.stderr.write(f"Export of contact #{found.pk} queued; the link will be emailed.")
            return
        output = output or f"contact-{found.pk}-data.zip"
        if output == "-":
            write_export(found, sys.stdout.buffer)
        else:
            with open(output, "wb") as fileobj:
                write_export(found, fileobj)
        audit.log_contact(found, audit.EXPORTED, data={"via": "command"})
        if output != "-":
            self.stdout.write(f"Wrote the data of contact #{found.pk} to {output}.")
