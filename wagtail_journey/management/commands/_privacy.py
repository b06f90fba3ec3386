"""Shared by the privacy commands: find a contact by id or address."""

from django.core.management.base import CommandError

from wagtail_journey.identity import normalize_email
from wagtail_journey.models import Contact


def find_contact(value: str) -> Contact:
    """The contact whose id or (normalised) address is ``value``; CommandError if none."""
    contact = None
    if value.isdigit():
        contact = Contact.objects.filter(pk=int(value)).first()
    if contact is None:
        contact = Contact.objects.filter(email=normalize_email(value)).first()
    if contact is None:
        raise CommandError(f"No contact with the id or address {value!r}.")
    return contact
