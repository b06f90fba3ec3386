"""Signed, expiring, single-purpose tokens for the visitors' rights links.

A token names one contact and one *kind* (what it may be used for: open the
preference centre, confirm an erasure). Each kind signs with its own salt, so
a link made for one purpose is refused for any other; each carries a random
nonce, so a single-use link is burnt by recording its fingerprint
(:class:`~wagtail_journey.models.UsedPrivacyToken`) in one INSERT whose
unique constraint refuses a replay, even one racing the first use.

Whatever is wrong with a token (forged, damaged, expired, used, made for
another purpose, or its contact erased or gone) the caller gets
:class:`InvalidToken` and shows one neutral page: a link never tells whether
an address exists.
"""

from __future__ import annotations

import hashlib
import random
import secrets
from datetime import timedelta

from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone

from wagtail_journey.models import Contact, UsedPrivacyToken

SALT = "wagtail_journey.privacy."
#: Used-token fingerprints are kept this long (longer than any single-use link lives).
KEEP_USED_DAYS = 8


class InvalidToken(Exception):
    """The link cannot be used; the visitor is told nothing more."""


def make(kind: str, contact_id: int, **extra: object) -> str:
    """A token for ``kind`` naming ``contact_id`` (``extra``: small values of the kind's own)."""
    payload = {"c": contact_id, "n": secrets.token_urlsafe(9), **extra}
    return signing.dumps(payload, salt=SALT + kind, compress=True)


def read(token: str, kind: str, max_age: timedelta) -> dict:
    """The payload of a valid ``kind`` token no older than ``max_age``; InvalidToken otherwise."""
    try:
        data = signing.loads(token, salt=SALT + kind, max_age=max_age)
    except signing.BadSignature:  # includes SignatureExpired
        raise InvalidToken from None
    if not isinstance(data, dict) or not isinstance(data.get("n"), str):
        raise InvalidToken
    return data


def contact_of(data: dict) -> Contact:
    """The living contact a token names (an erased or deleted one is an invalid link)."""
    contact = Contact.objects.filter(pk=data.get("c"), erased_at__isnull=True).first()
    if contact is None:
        raise InvalidToken
    return contact


def is_used(kind: str, data: dict) -> bool:
    return UsedPrivacyToken.objects.filter(digest=_digest(kind, data)).exists()


def use(kind: str, data: dict) -> None:
    """Burn a single-use token; InvalidToken if it was used already (a replay)."""
    try:
        with transaction.atomic():
            UsedPrivacyToken.objects.create(digest=_digest(kind, data), kind=kind)
    except IntegrityError:
        raise InvalidToken from None
    if random.random() < 0.02:  # noqa: S311 (housekeeping, not security)
        cutoff = timezone.now() - timedelta(days=KEEP_USED_DAYS)
        UsedPrivacyToken.objects.filter(used_at__lt=cutoff).delete()


def _digest(kind: str, data: dict) -> str:
    return hashlib.sha256(f"{kind}:{data['n']}".encode()).hexdigest()
