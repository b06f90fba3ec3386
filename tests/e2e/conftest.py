"""Browser tests: Debian's chromium driven by Playwright against pytest-django's live_server.

Run with `make test-e2e` (which installs chromium if it is missing); `make test` leaves them out.
Playwright never downloads a browser here: it launches /usr/bin/chromium.

The browser can only reach the live server: outside host names do not resolve in chromium and
any other request is aborted (and remembered in `context.outside_requests`).
"""

from __future__ import annotations

import io
import json
import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.management import call_command
from wagtail.models import Site

CHROMIUM = "/usr/bin/chromium"  # Debian's package; Playwright never downloads a browser here

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--no-first-run",
    "--no-default-browser-check",
    "--no-proxy-server",
    "--metrics-recording-only",
    # Nothing but the live server resolves: no DNS query leaves the machine.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    # Every test in this directory drives the browser: mark it e2e (before `-m` deselects)
    # even if its module forgets `pytestmark`, so `make test` never starts a browser.
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session", autouse=True)
def _django_beside_playwright(django_db_setup):
    """Let the tests use the ORM in the thread where Playwright's sync API runs.

    Playwright keeps an asyncio loop marked as running in the main thread. Django then
    refuses ORM calls there (SynchronousOnlyOperation) although they are plain synchronous
    calls, so the check is off for the browser tests. The running loop also makes
    `django.db.connections` (an asgiref Local) hand out new connection objects instead of
    the ones the test database was set up with; `playwright` below puts these back, so the
    tests, the live server and pytest-django keep sharing one connection per database.
    This fixture runs before the browser starts: these are the originals.
    """
    from django.db import connections

    originals = {alias: connections[alias] for alias in connections}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield originals


@pytest.fixture(scope="session")
def playwright(_django_beside_playwright, playwright):
    from django.db import connections

    for alias, connection in _django_beside_playwright.items():
        connections[alias] = connection
    return playwright


def _reload_migrated_data() -> None:
    """Empty the test database and load back the rows its migrations created.

    pytest-django serialized them when it created the database, because these tests ask
    for `django_db_serialized_rollback`.
    """
    from django.db import connections

    for alias in connections:
        connection = connections[alias]
        data = getattr(connection, "_test_serialized_contents", None)
        if data is None:
            if alias == "default":
                pytest.fail("The test database was created without serialized data.")
            continue
        # Content types first: building some rows (Wagtail's tasks) looks their content
        # type up, and would create a duplicate if it were not loaded yet.
        rows = sorted(json.loads(data), key=lambda row: row["model"] != "contenttypes.contenttype")
        # Their ids may differ from the cached ones (a transactional test run before this
        # one may have recreated them), and so may the pages behind cached site data.
        ContentType.objects.clear_cache()
        cache.clear()
        # As TransactionTestCase does: sequences go on, so new rows never reuse loaded ids.
        call_command(
            "flush",
            database=alias,
            interactive=False,
            inhibit_post_migrate=True,
            reset_sequences=False,
            verbosity=0,
        )
        connection.creation.deserialize_db_from_string(json.dumps(rows))


@pytest.fixture
def _migrated_data(django_db_blocker):
    """Each browser test starts from, and leaves, the database as its migrations made it.

    live_server makes the tests transactional: pytest-django empties the database after
    each one, rows created by migrations included (Wagtail's root page, locale, root
    collection, groups...), which the next tests expect. Set up before `transactional_db`,
    so this teardown runs after pytest-django's flush.
    """
    with django_db_blocker.unblock():
        _reload_migrated_data()
    yield
    with django_db_blocker.unblock():
        _reload_migrated_data()


@pytest.fixture
def transactional_db(_migrated_data, transactional_db):
    return transactional_db


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        found = shutil.which("chromium")
        hint = f" (found {found})" if found else ""
        pytest.fail(
            f"{CHROMIUM} is missing{hint}: run `make test-e2e`, which installs Debian's chromium.",
            pytrace=False,
        )
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def base_url(live_server) -> str:
    """page.goto("/admin/") goes to the live server."""
    return live_server.url


@pytest.fixture(autouse=True)
def _public_links_to_the_live_server(settings, live_server):
    """Links in emails use the site's configured root URL: here, the live server."""
    settings.WAGTAILADMIN_BASE_URL = live_server.url


@pytest.fixture
def demo_site(live_server, django_db_serialized_rollback):
    """The demo content a `make demo` user sees, served by the live server."""
    call_command("load_demo", "--with-admin", stdout=io.StringIO())
    from django.core import mail

    mail.outbox = []  # the demo's own newsletter (load_demo) is not what a test sent
    url = urlsplit(live_server.url)
    site = Site.objects.get(is_default_site=True)
    site.hostname = url.hostname
    site.port = url.port
    site.save()
    return site


@pytest.fixture
def context(new_context, live_server):
    """A browser context that can only talk to the live server."""
    context = new_context()
    origin = live_server.url.rstrip("/")
    context.outside_requests = []

    def only_live_server(route):
        url = route.request.url
        if url == origin or url.startswith(origin + "/"):
            route.continue_()
        else:
            context.outside_requests.append(url)
            route.abort("blockedbyclient")

    context.route("**/*", only_live_server)
    return context


@pytest.fixture
def page(context, request, tmp_path):
    """A page; on failure its screenshot is saved in the test's tmp dir."""
    page = context.new_page()
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed and not page.is_closed():
        path = tmp_path / "failure.png"
        try:
            page.screenshot(path=path, full_page=True, timeout=5000)
        except Exception as exc:  # noqa: BLE001 - a screenshot must not hide the failure
            print(f"e2e: no screenshot ({exc})")
        else:
            print(f"e2e: screenshot of {page.url} at {path}")
