"""Load the demo content. Idempotent: running it twice changes nothing.

Later features add their own demo pieces here (landing page with a consented
form, flows, segments) so the reports have something to show.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from wagtail.models import Page, Site

from demo.models import ArticlePage, HomePage
from demo.report_demo import load_report_demo
from wagtail_journey import record
from wagtail_journey.models import (
    ConsentPurpose,
    Contact,
    DailyPageStat,
    LifecycleTransition,
    ScoringRule,
    Segment,
    Visitor,
)
from wagtail_journey.pages import LandingPage
from wagtail_journey.segments import rebuild_segment

DEMO_ADMIN = ("admin", "journey-demo")

ARTICLES = [
    ("why-consent-matters", "Why consent matters", "How consented data beats bought lists."),
    ("pricing", "Pricing", "Plans for every team size."),
    ("customer-stories", "Customer stories", "What our customers say."),
]

#: Days and traffic sources of the demo's anonymous audience counts.
DEMO_AUDIENCE_DAYS = 30
DEMO_AUDIENCE_SOURCES = ["", "newsletter", "google.com"]

CONTACTS = [
    ("ana.silva@example.com", "Ana", "Silva", ["why-consent-matters", "pricing"]),
    ("jean.dupont@example.org", "Jean", "Dupont", ["why-consent-matters"]),
    ("maria@example.net", "Maria", "Costa", ["pricing", "customer-stories", "pricing"]),
]


class Command(BaseCommand):
    help = "Create (or leave as is) the demo site, pages, contacts and touchpoints."

    def add_arguments(self, parser):
        parser.add_argument(
            "--with-admin",
            action="store_true",
            help="Also create the superuser admin / journey-demo (local demos only).",
        )

    @transaction.atomic
    def handle(self, *args, **options):
        home = self._home()
        pages = {
            slug: self._article(home, slug, title, summary) for slug, title, summary in ARTICLES
        }
        self._scoring(home, pages)
        self._contacts(pages)
        landing = self._landing_page(home)
        load_report_demo([home, *pages.values()], landing)
        self._segments(pages)
        self._audience([home, *pages.values(), landing])
        self._email_templates()
        self._outbox()
        self._flows()
        if options["with_admin"]:
            self._admin()
        self.stdout.write(self.style.SUCCESS("Demo content is in place."))

    def _home(self) -> HomePage:
        home = HomePage.objects.first()
        if home is None:
            root = Page.get_first_root_node()
            home = HomePage(
                title="Journey demo",
                slug="journey-home",
                intro="<p>A Wagtail site with consent-first marketing automation.</p>",
            )
            root.add_child(instance=home)
            home.save_revision().publish()
            site = Site.objects.filter(is_default_site=True).first()
            old_root = site.root_page if site else None
            if site is None:
                Site.objects.create(hostname="localhost", root_page=home, is_default_site=True)
            else:
                site.root_page = home
                site.save()
            # Wagtail's stock "Welcome" page is replaced by the demo home page.
            if old_root and old_root.pk != home.pk and old_root.depth == 2:
                old_root.delete()
        return home

    def _article(self, home: HomePage, slug: str, title: str, summary: str) -> ArticlePage:
        page = ArticlePage.objects.filter(slug=slug).first()
        if page is None:
            page = ArticlePage(
                title=title,
                slug=slug,
                summary=summary,
                show_in_menus=True,
                body=f"<p>{summary}</p>",
            )
            home.add_child(instance=page)
            page.save_revision().publish()
        return page

    def _contacts(self, pages: dict[str, ArticlePage]) -> None:
        now = timezone.now()
        for email, first, last, visits in CONTACTS:
            if Contact.objects.filter(email=email).exists():
                continue
            visitor = Visitor.objects.create()
            for i, slug in enumerate(visits):
                record(
                    "page_view",
                    visitor=visitor,
                    page=pages[slug],
                    occurred_at=now - timedelta(days=len(visits) - i),
                )
            contact = Contact.objects.create(email=email, first_name=first, last_name=last)
            # Identifying the visitor scores the anonymous page views it
            # brings and lets the score thresholds apply. (A real site links
            # a browser only on proof of control: identity.prove_control.)
            record(
                "identified",
                contact=contact,
                visitor=visitor,
                identify=True,
                properties={"how": "demo"},
                occurred_at=now - timedelta(hours=1),
            )

    def _audience(self, pages: list[Page]) -> None:
        """Anonymous daily counts for the last 30 days before today, so the Audience
        report has something to show. Rows already there (real visits included) are
        left alone, and today is left to real visits."""
        today = timezone.localdate()
        rows = []
        for p, page in enumerate(pages):
            for days_ago in range(1, DEMO_AUDIENCE_DAYS + 1):
                for s, source in enumerate(DEMO_AUDIENCE_SOURCES):
                    # A weekly rhythm, busier pages first, fewer visits from each later source.
                    views = (40 + 7 * (days_ago % 7)) // (p + 1) // (s + 1)
                    if views:
                        rows.append(
                            DailyPageStat(
                                day=today - timedelta(days=days_ago),
                                page=page,
                                source=source,
                                views=views,
                                visitors=max(1, views * 2 // 3),
                            )
                        )
        DailyPageStat.objects.bulk_create(rows, ignore_conflicts=True)

    def _scoring(self, home: HomePage, pages: dict[str, ArticlePage]) -> None:
        rules = [
            (
                "Viewed any page",
                {
                    "kind": "page_view",
                    "page": home,
                    "include_subpages": True,
                    "points": 2,
                    "cap_count": 10,
                    "cap_period": "day",
                },
            ),
            (
                "Read the pricing page",
                {"kind": "page_view", "page": pages["pricing"], "points": 10, "cap_count": 3},
            ),
            ("Submitted a form", {"kind": "form_submitted", "points": 15}),
            (
                "Opened an email",
                {"kind": "email_opened", "points": 1, "cap_count": 5, "cap_period": "week"},
            ),
            ("Clicked an email", {"kind": "email_clicked", "points": 3}),
            (
                "Completed an order",
                {"kind": "order_completed", "points": 50, "add_tag": "customer"},
            ),
            ("Unsubscribed", {"kind": "unsubscribed", "points": -25}),
        ]
        for name, fields in rules:
            ScoringRule.objects.get_or_create(name=name, defaults=fields)
        for stage, fields in [
            ("lead", {"min_score": 10}),
            ("mql", {"min_score": 30}),
            ("sql", {"min_score": 60}),
            ("customer", {"kind": "order_completed"}),
        ]:
            LifecycleTransition.objects.get_or_create(stage=stage, **fields)

    def _segments(self, pages: dict[str, ArticlePage]) -> None:
        def rule(type_, **value):
            return {"type": type_, "value": {**value, "negate": False}}

        def group(*rules, match="all"):
            return {"type": "group", "value": {"match": match, "rules": list(rules)}}

        segments = [
            (
                "Pricing readers (30 days)",
                [
                    group(
                        rule(
                            "visited_page",
                            page=pages["pricing"].pk,
                            include_subpages=False,
                            within_days=30,
                        )
                    )
                ],
                "all",
            ),
            (
                "Engaged leads",
                [
                    group(rule("score", min=20, max=None)),
                    group(
                        rule("lifecycle_stage", stages=["lead", "mql", "sql"]),
                        rule("tag", tag="vip"),
                        match="any",
                    ),
                ],
                "all",
            ),
        ]
        for name, groups, match in segments:
            segment, _created = Segment.objects.get_or_create(
                name=name, defaults={"rules": groups, "match": match}
            )
            rebuild_segment(segment)
        Segment.objects.get_or_create(
            name="Event attendees (imported)", defaults={"kind": Segment.Kind.STATIC}
        )

    def _purposes(self, privacy_page: ArticlePage) -> list[ConsentPurpose]:
        privacy, _ = ConsentPurpose.objects.get_or_create(
            key="privacy",
            defaults={
                "name": "Privacy policy",
                "required": True,
                "text": (
                    f'<p>I have read and accept the <a linktype="page" id="{privacy_page.pk}">'
                    "privacy policy</a>.</p>"
                ),
            },
        )
        marketing, _ = ConsentPurpose.objects.get_or_create(
            key="marketing",
            defaults={
                "name": "Marketing emails",
                "double_opt_in": True,
                "is_marketing": True,
                "text": "<p>Yes, send me news and offers by email. I can unsubscribe at any "
                "time.</p>",
            },
        )
        return [privacy, marketing]

    def _landing_page(self, home: HomePage) -> LandingPage:
        page = LandingPage.objects.filter(slug="guide").first()
        if page is not None:
            return page
        privacy_page = self._article(
            home, "privacy-policy", "Privacy policy", "How we use your data and your rights."
        )
        purposes = self._purposes(privacy_page)
        customer_stories = ArticlePage.objects.get(slug="customer-stories")
        body = [
            {
                "type": "hero",
                "value": {
                    "heading": "The consent-first marketing guide",
                    "text": "Twelve pages on growing a list people actually want to be on.",
                },
            },
            {
                "type": "features",
                "value": {
                    "heading": "What you will learn",
                    "features": [
                        {"title": "Consent that holds up", "text": "Versioned texts, proof."},
                        {"title": "Journeys, not blasts", "text": "Touchpoints drive flows."},
                        {"title": "Scores you can explain", "text": "Every point has a reason."},
                    ],
                },
            },
            {
                "type": "rich_text",
                "value": (
                    "<h2>Why this guide</h2><p>Bought lists bounce, annoy and break the law. "
                    "This guide shows how to grow an audience that asked to hear from you, "
                    "with <b>consent you can prove</b> and journeys that follow what people "
                    "actually do.</p>"
                ),
            },
            {
                "type": "testimonial",
                "value": {
                    "quote": "We doubled sign-ups and sleep better at night.",
                    "name": "Inês Carvalho",
                    "role": "Head of Growth",
                },
            },
            {
                "type": "form",
                "value": {
                    "name": "Guide download",
                    "heading": "Get the guide",
                    "fields": [
                        {
                            "label": "Email",
                            "field_type": "email",
                            "required": True,
                            "maps_to": "email",
                        },
                        {
                            "label": "First name",
                            "field_type": "singleline",
                            "maps_to": "first_name",
                        },
                        {
                            "label": "Company size",
                            "field_type": "dropdown",
                            "choices": "1-10\n11-50\n51-250\n250+",
                        },
                    ],
                    "consents": [p.pk for p in purposes],
                    "submit_label": "Send me the guide",
                    "success_message": "<p>Thank you! Check your inbox.</p>",
                    "tags": "guide",
                    "journey_stage": "consideration",
                },
            },
            {
                "type": "cta",
                "value": {
                    "label": "Read customer stories",
                    "page": customer_stories.pk,
                    "style": "secondary",
                },
            },
        ]
        page = LandingPage(title="Free guide", slug="guide", body=body, show_in_menus=True)
        home.add_child(instance=page)
        page.save_revision().publish()
        return page

    def _email_templates(self) -> None:
        from django.conf import settings

        from demo.email_demo import load_email_templates

        load_email_templates(settings.WAGTAILADMIN_BASE_URL)

    def _outbox(self) -> None:
        """The newsletter queued to the demo contacts, and a broadcast of it with an
        A/B subject test (both sent by the demo's worker)."""
        from demo.outbox_demo import queue_demo_newsletter, start_demo_ab_broadcast

        queue_demo_newsletter()
        start_demo_ab_broadcast()

    def _flows(self) -> None:
        """The welcome flow (guide form, marketing consent) and cart abandonment."""
        from demo.flow_demo import load_flow_demo

        load_flow_demo()

    def _admin(self) -> None:
        User = get_user_model()
        username, password = DEMO_ADMIN
        user = User.objects.filter(username=username).first()
        if user is None:
            User.objects.create_superuser(username, "admin@example.com", password)
