"""Months of realistic demo traffic so the journey reports have something to show.

A few thousand visitors over the last 120 days arrive from a handful of
sources, browse in sessions (some bounce), about half of the consented ones
fill in the guide form and become contacts, who then move through the
lifecycle stages; some become customers and order, some leave a cart. The rows
are written with ``bulk_create`` (a few statements, seconds on SQLite) instead
of one ``record()`` call per fact: this is history being loaded, so no scoring
or flow reaction should run for it. The report roll-up is run at the end.

Deterministic (a seeded random generator) and idempotent: once its contacts
exist, it only refreshes the roll-up of the last two days.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from wagtail.models import Page

from wagtail_journey.models import Contact, Touchpoint, Visitor
from wagtail_journey.reports.rollup import local_today, rollup_range
from wagtail_journey.stages import rebuild_journey_stages

DAYS = 120
VISITORS = 6000  # settings.DEMO_REPORT_VISITORS overrides (the tests load a tenth)
EMAIL_DOMAIN = "demo-journey.example"

#: (weight, utm, referrer) of a session's first page view.
SOURCES = [
    (34, None, None),
    (20, None, "google.com"),
    (14, {"source": "google", "medium": "cpc", "campaign": "spring-guide"}, None),
    (10, {"source": "newsletter", "medium": "email", "campaign": "monthly"}, None),
    (9, None, "linkedin.com"),
    (7, {"source": "facebook", "medium": "social"}, None),
    (4, None, "news.ycombinator.com"),
    (2, {"source": "partner", "medium": "affiliate"}, None),
]
FIRST = ["Ana", "Jean", "Maria", "Luis", "Sofia", "Hugo", "Lea", "Tiago", "Clara", "Marc"]
LAST = ["Silva", "Dupont", "Costa", "Martin", "Ferreira", "Bernard", "Santos", "Moreau"]
STAGE_PATH = [("lead", 0.92), ("mql", 0.45), ("sql", 0.5), ("customer", 0.55)]


def _stage_for(page: Page, landing: Page) -> str:
    if page.pk == landing.pk or page.slug in ("pricing", "customer-stories"):
        return "consideration"
    return "awareness"


class _Builder:
    def __init__(self, pages: list[Page], landing: Page, now: datetime):
        self.rng = random.Random(14)  # noqa: S311 (demo data, not security)
        self.pages, self.landing, self.now = pages, landing, now
        self.touchpoints: list[Touchpoint] = []
        self.session = 10**12
        self.orders = 0

    def when(self, days_ago: float) -> datetime:
        moment = self.now - timedelta(days=days_ago)
        # Daytime visits; a time later today is moved back a day.
        moment = moment.replace(hour=self.rng.choice(range(7, 23)), minute=self.rng.randrange(60))
        return moment if moment < self.now else moment - timedelta(days=1)

    def source(self):
        weights = [w for w, _u, _r in SOURCES]
        _w, utm, ref = self.rng.choices(SOURCES, weights=weights)[0]
        return utm, ref

    def tp(self, kind: str, at: datetime, **fields) -> None:
        self.touchpoints.append(Touchpoint(kind=kind, occurred_at=min(at, self.now), **fields))

    def visit(self, visitor: Visitor, start: datetime, *, to_form: bool) -> None:
        """One session; ``to_form`` sessions end on the landing page's form."""
        self.session += 1
        utm, ref = self.source()
        count = 1 if self.rng.random() < 0.42 and not to_form else self.rng.randint(2, 6)
        chosen = self.rng.choices(self.pages, weights=range(len(self.pages), 0, -1), k=count)
        if utm and utm.get("medium") == "cpc":
            chosen[0] = self.landing  # ads land on the guide
        if to_form:
            chosen[-1] = self.landing
        for i, page in enumerate(chosen):
            self.tp(
                "page_view",
                start + timedelta(minutes=2 * i),
                visitor=visitor,
                contact_id=visitor.contact_id,
                audience_only=visitor.audience_only,
                page=page,
                session=self.session,
                device=self.rng.choice([1, 1, 2, 2, 3]),
                journey_stage=_stage_for(page, self.landing),
                utm=utm if i == 0 else None,
                properties={"ref": ref} if ref and i == 0 else None,
            )

    def order(self, contact: Contact, at: datetime) -> None:
        self.orders += 1
        amount = Decimal(self.rng.choice([29, 49, 79, 129, 249])) - Decimal("0.10")
        self.tp("cart_updated", at - timedelta(minutes=9), contact=contact)
        self.tp(
            "order_completed",
            at,
            contact=contact,
            journey_stage="conversion",
            dedupe_key=f"demo-order:{self.orders}",
            properties={
                "order_id": f"D{self.orders:05d}",
                "amount": str(amount),
                "currency": "EUR",
            },
        )


def load_report_demo(pages: list[Page], landing: Page) -> int:
    """Create the demo traffic unless it exists; roll the reports up. Returns contacts created."""
    if Contact.objects.filter(email__endswith=f"@{EMAIL_DOMAIN}").exists():
        today = local_today()
        rollup_range(today - timedelta(days=1), today)
        return 0
    now = timezone.now()
    b = _Builder(pages, landing, now)
    with transaction.atomic():
        visitors = Visitor.objects.bulk_create(
            Visitor(
                audience_only=(audience := b.rng.random() < 0.3),
                consented_at=None if audience else now - timedelta(days=DAYS),
                created_at=now - timedelta(days=DAYS),
            )
            for _ in range(getattr(settings, "DEMO_REPORT_VISITORS", VISITORS))
        )
        converting = []
        for visitor in visitors:
            first_seen = b.rng.uniform(0, DAYS)
            sessions = b.rng.choices([1, 2, 3, 4, 6], weights=[50, 25, 12, 8, 5])[0]
            will_convert = not visitor.audience_only and b.rng.random() < 0.55
            for s in range(sessions):
                days_ago = first_seen - s * b.rng.uniform(1, 9)
                last = s == sessions - 1 or days_ago - 9 < 0
                if days_ago < 0:
                    break
                b.visit(visitor, b.when(days_ago), to_form=will_convert and last)
                if will_convert and last:
                    converting.append((visitor, b.touchpoints[-1].occurred_at))
                    break
        contacts = Contact.objects.bulk_create(
            Contact(
                email=f"visitor{n}@{EMAIL_DOMAIN}",
                first_name=b.rng.choice(FIRST),
                last_name=b.rng.choice(LAST),
            )
            for n in range(len(converting))
        )
        for contact, (visitor, at) in zip(contacts, converting, strict=True):
            contact.created_at = at
            visitor.contact = contact
            _journey(b, contact, visitor, at)
        Contact.objects.bulk_update(contacts, ["created_at", "lifecycle_stage"], batch_size=500)
        Visitor.objects.bulk_update([v for v, _at in converting], ["contact"], batch_size=500)
        # The visitors' earlier page views belong to their contacts (as identification does).
        by_visitor = {v.pk: v.contact_id for v, _at in converting}
        for tp in b.touchpoints:
            if tp.visitor_id in by_visitor and tp.contact_id is None:
                tp.contact_id = by_visitor[tp.visitor_id]
        Touchpoint.objects.bulk_create(b.touchpoints, batch_size=2000)
        rebuild_journey_stages()
    today = local_today()
    rollup_range(today - timedelta(days=DAYS + 1), today)
    return len(contacts)


def _journey(b: _Builder, contact: Contact, visitor: Visitor, at: datetime) -> None:
    """The guide form, then lifecycle stages days apart; customers order, some carts wait."""
    b.tp(
        "form_submitted",
        at + timedelta(minutes=1),
        contact=contact,
        visitor=visitor,
        page=b.landing,
        journey_stage="consideration",
        properties={"form": "demo", "form_name": "Guide download"},
    )
    stage, moment, previous = "subscriber", at + timedelta(minutes=2), "subscriber"
    for next_stage, chance in STAGE_PATH:
        if b.rng.random() > chance:
            break
        moment += timedelta(days=b.rng.expovariate(1 / 6), minutes=5)
        if moment >= b.now:
            break
        b.tp(
            "stage_changed",
            moment,
            contact=contact,
            properties={"from": previous, "to": next_stage, "reason": "score"},
        )
        stage = previous = next_stage
    contact.lifecycle_stage = stage
    if stage == "customer":
        b.order(contact, moment)
        repeat = moment
        for _ in range(b.rng.choices([0, 1, 2, 3], weights=[45, 30, 15, 10])[0]):
            repeat += timedelta(days=b.rng.uniform(5, 30))
            if repeat < b.now:
                b.order(contact, repeat)
    elif stage in ("mql", "sql") and b.rng.random() < 0.3:
        b.tp("cart_updated", moment + timedelta(days=1), contact=contact)
