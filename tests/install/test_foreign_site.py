"""docs/installation.md applied to a fresh ``wagtail start`` project, then used.

The project is made by Wagtail's own starter (no network) and changed only by
the doc's marked steps (tests/install/foreign_site.py): settings, URLs,
migrate, templates, a form block in the starter's own HomePage rendered with
``{{ page.body }}``. A visitor then accepts the banner, is tracked, and sends a
consented form through Django's test client with CSRF checks on. If the doc
drifts from what works, this fails.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.install.foreign_site import make_project, run

pytestmark = pytest.mark.foreign_site

VISIT = textwrap.dedent(
    """
    import json
    import re
    import time

    import django

    django.setup()

    from django.test import Client
    from django_q.models import OrmQ
    from home.models import HomePage
    from wagtail_journey.models import ConsentPurpose, ConsentRecord, FormSubmission, Touchpoint
    from wagtail_journey.models import OutboundEmail
    from wagtail_journey.models.outbound import OutboundStatus

    privacy = ConsentPurpose.objects.create(
        name="Privacy", key="privacy", text="<p>I accept the privacy policy.</p>", required=True
    )
    news = ConsentPurpose.objects.create(
        name="News", key="news", text="<p>Send me news.</p>", double_opt_in=True
    )
    home = HomePage.objects.get(slug="home")
    home.body = [
        {
            "type": "form",
            "value": {
                "name": "Contact",
                "fields": [
                    {"label": "Email", "field_type": "email", "required": True,
                     "maps_to": "email"},
                ],
                "consents": [privacy.pk, news.pk],
                "submit_label": "Send",
                "success_message": "<p>Thanks, we got it.</p>",
            },
        }
    ]
    home.save_revision().publish()

    ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"
    web = Client(enforce_csrf_checks=True, HTTP_USER_AGENT=ua)
    html = web.get("/").content.decode()
    assert "data-journey-banner" in html, "no consent banner"
    assert "wagtail_journey/journey.js" in html and "wagtail_journey/journey.css" in html
    assert "wagtail_journey/journey-consent.css" in html
    assert 'name="csrfmiddlewaretoken"' in html, "the form has no CSRF token"

    consent = web.post("/journey/collect/", json.dumps({"consent": True}),
                       content_type="application/json", HTTP_ORIGIN="http://testserver")
    assert consent.status_code == 204, consent.status_code
    html = web.get("/").content.decode()
    assert Touchpoint.objects.filter(kind="page_view", page=home).count() == 1, "not tracked"

    def hidden(name):
        return re.search(rf'name="{name}" value="([^"]*)"', html).group(1)

    data = {name: hidden(name) for name in ("csrfmiddlewaretoken", "wj_form", "wj_ts")}
    data.update(email="visitor@example.com", consent_privacy="on", consent_news="on")
    time.sleep(2.2)  # a person takes a moment (FORM_MIN_FILL_SECONDS)
    sent = web.post("/", data)
    assert sent.status_code == 303, (sent.status_code, sent.content[:2000])
    assert "Thanks, we got it." in web.get(sent["Location"]).content.decode()
    assert FormSubmission.objects.get().contact.email == "visitor@example.com"
    assert ConsentRecord.objects.filter(action="granted").count() == 2
    assert Touchpoint.objects.filter(kind="form_submitted").count() == 1
    # The confirmation email is queued in the database and its delivery waits in
    # the ORM broker's queue for qcluster (through the django_tasks backend).
    email = OutboundEmail.objects.get(message="double_opt_in")
    assert email.status == OutboundStatus.PENDING, email.status
    queued = [q.task["func"] for q in OrmQ.objects.all()]
    assert "wagtail_journey.tasks_backend.run_task" in queued, queued
    print("ok")
    """
)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return make_project(tmp_path_factory.mktemp("foreign") / "site")


def test_the_documented_installation_passes_the_system_checks(project):
    out = run(project, ["python", "manage.py", "check"])
    assert out.strip() == "System check identified no issues (0 silenced)."


def test_a_visitor_is_tracked_and_sends_a_consented_form(project):
    (project / "visit.py").write_text(VISIT)
    assert run(project, ["python", "visit.py"]).strip().endswith("ok")
