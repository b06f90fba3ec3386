"""The suppression list: addresses no email goes to, whatever the consent says.

Hard bounces and spam complaints reported by the provider add an address
(emails/webhooks.py); editors add and remove addresses in the admin. Lookups go
by the keyed hash, so a batch is checked in one query.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction

from wagtail_journey.identity import normalize_email
from wagtail_journey.models import Suppression
from wagtail_journey.models.outbound import address_key


def suppressed_keys(addresses: Iterable[str]) -> set[str]:
    """The keys of those ``addresses`` that are suppressed (one query)."""
    keys = {address_key(normalize_email(a)) for a in addresses if a}
    if not keys:
        return set()
    return set(
        Suppression.objects.filter(address_hash__in=keys).values_list("address_hash", flat=True)
    )


def is_suppressed(address: str) -> bool:
    return bool(address) and bool(suppressed_keys([address]))


def suppress(address: str, source: str, reason: str = "") -> tuple[Suppression, bool]:
    """Add ``address`` (normalised) once; returns (row, created). Replays change nothing."""
    address = normalize_email(address)
    key = address_key(address)
    existing = Suppression.objects.filter(address_hash=key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            row = Suppression(address=address, source=source, reason=reason[:200])
            row.save()
            return row, True
    except IntegrityError:  # another event suppressed it meanwhile
        return Suppression.objects.get(address_hash=key), False


def unsuppress(address: str) -> int:
    """Remove ``address`` from the list; returns how many rows went (0 or 1)."""
    deleted, _ = Suppression.objects.filter(
        address_hash=address_key(normalize_email(address))
    ).delete()
    return deleted
