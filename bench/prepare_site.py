"""Bring the bench database up to date and print the site's facts as JSON.

Run by bench/database.py in a child process with DJANGO_SETTINGS_MODULE set to
one of the bench settings and SQLITE_PATH or DATABASE_URL pointing at the
bench's own database. Idempotent: migrate, createcachetable and load_demo
change nothing the second time. ``--count`` only counts touchpoints by kind.
"""

from __future__ import annotations

import io
import json
import sys


def touchpoint_counts() -> dict[str, int]:
    from django.db.models import Count

    from wagtail_journey.models import Touchpoint

    rows = Touchpoint.objects.values_list("kind").annotate(n=Count("pk")).order_by()
    return dict(rows)


def site_facts() -> dict:
    from django.core.management import call_command
    from django.db import connection
    from wagtail.models import Site

    from bench.settings_common import JOURNEY_APPS

    quiet = io.StringIO()
    call_command("migrate", interactive=False, verbosity=0, stdout=quiet)
    call_command("createcachetable", verbosity=0, stdout=quiet)
    call_command("load_demo", verbosity=0, stdout=quiet)

    site = Site.objects.get(is_default_site=True)
    paths, journey_only = [], []
    for page in site.root_page.get_descendants(inclusive=True).live().public().specific():
        parts = page.get_url_parts()
        if parts is not None:
            # A page type of wagtail_journey (the demo's LandingPage, /guide/)
            # exists only on the journey site: the two sites compare the rest.
            both = page._meta.app_label not in JOURNEY_APPS
            (paths if both else journey_only).append(parts[2])

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
        else:
            cursor.execute("SELECT sqlite_version()")
        db_version = cursor.fetchone()[0]
    return {
        "paths": sorted(paths),
        "journey_only_paths": sorted(journey_only),
        "hostname": site.hostname,
        "home_page_id": site.root_page_id,
        "db_vendor": connection.vendor,
        "db_version": db_version,
    }


def main(argv: list[str]) -> None:
    import django

    django.setup()
    if "--count" in argv:
        print(json.dumps({"touchpoints": touchpoint_counts()}))
    else:
        print(json.dumps(site_facts()))


if __name__ == "__main__":
    main(sys.argv[1:])
