"""Bring the bench database up to date and print the site's facts as JSON.

Run by bench/database.py in a child process with DJANGO_SETTINGS_MODULE set to
one of the bench settings and SQLITE_PATH or DATABASE_URL pointing at the
bench's own database. Idempotent: migrate, createcachetable and load_demo
change nothing the second time.
"""

from __future__ import annotations

import io
import json


def main() -> None:
    import django

    django.setup()

    from django.core.management import call_command
    from django.db import connection
    from wagtail.models import Site

    quiet = io.StringIO()
    call_command("migrate", interactive=False, verbosity=0, stdout=quiet)
    call_command("createcachetable", verbosity=0, stdout=quiet)
    call_command("load_demo", verbosity=0, stdout=quiet)

    site = Site.objects.get(is_default_site=True)
    paths = []
    for page in site.root_page.get_descendants(inclusive=True).live().public().specific():
        parts = page.get_url_parts()
        if parts is not None:
            paths.append(parts[2])

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
        else:
            cursor.execute("SELECT sqlite_version()")
        db_version = cursor.fetchone()[0]

    print(
        json.dumps(
            {
                "paths": sorted(paths),
                "hostname": site.hostname,
                "db_vendor": connection.vendor,
                "db_version": db_version,
            }
        )
    )


if __name__ == "__main__":
    main()
