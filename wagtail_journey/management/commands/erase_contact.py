"""Erase contacts' personal data everywhere (or, with --dry-run, count what would go)."""

from django.core.management.base import BaseCommand, CommandError

from wagtail_journey.management.commands._privacy import find_contact
from wagtail_journey.privacy.erasure import erase_contacts, plan


class Command(BaseCommand):
    help = (
        "Erase the personal data of contacts (ids or email addresses) in every table. "
        "--dry-run prints the rows per table that would be deleted or emptied. "
        "Asks for confirmation unless --yes."
    )

    def add_arguments(self, parser):
        parser.add_argument("contacts", nargs="+", help="Contact ids or email addresses.")
        parser.add_argument("--dry-run", action="store_true")
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")

    def handle(self, *args, contacts, dry_run, yes, **options):
        found = [find_contact(value) for value in contacts]
        ids = [c.pk for c in found]
        counts = plan(ids)
        for table, count in sorted(counts.items()):
            self.stdout.write(f"{table}: {count}")
        if dry_run:
            self.stdout.write(f"Dry run: {len(ids)} contact(s), nothing erased.")
            return
        if not yes:
            answer = input(f"Erase {len(ids)} contact(s)? This cannot be undone. [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                raise CommandError("Nothing erased.")
        receipts = erase_contacts(ids, by="command")
        for receipt in receipts:
            self.stdout.write(f"Erased contact #{receipt.contact_ref}: receipt {receipt.reference}")
        if len(receipts) < len(ids):
            self.stdout.write(f"{len(ids) - len(receipts)} contact(s) were already erased.")
