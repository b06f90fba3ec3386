"""A site's own models import the package's blocks whatever INSTALLED_APPS order says.

Each case starts a fresh interpreter (an import cycle only shows on a cold
start) with a site app listed *before* wagtail_journey whose models module
imports one of the package's modules first.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SETTINGS = """
SECRET_KEY = "import-order-test"
INSTALLED_APPS = [
    "siteapp",
    "wagtail_journey", "wagtail_modeladmin", "django_q", "anymail",
    "wagtail.contrib.forms", "wagtail.sites", "wagtail.users", "wagtail.snippets",
    "wagtail.documents", "wagtail.images", "wagtail.search", "wagtail.admin", "wagtail",
    "modelcluster", "taggit", "django.contrib.admin", "django.contrib.auth",
    "django.contrib.contenttypes", "django.contrib.sessions", "django.contrib.messages",
    "django.contrib.staticfiles",
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
Q_CLUSTER = {"name": "t", "orm": "default", "workers": 1}
USE_TZ = True
STATIC_URL = "/static/"
"""


@pytest.mark.parametrize(
    "first_import",
    [
        "from wagtail_journey.blocks import FormBlock",
        "from wagtail_journey.blocks.form import FormBlock",
        "from wagtail_journey.pages import LandingPage\nFormBlock = None",
        "from wagtail_journey.blocks import landing_blocks\nFormBlock = None",
    ],
)
def test_site_model_imports_blocks_before_the_app_loads(tmp_path: Path, first_import: str):
    app = tmp_path / "siteapp"
    app.mkdir()
    (app / "__init__.py").write_text("")
    (app / "models.py").write_text(
        first_import
        + textwrap.dedent(
            """
            from wagtail.fields import StreamField
            from wagtail.models import Page
            from wagtail_journey.blocks import landing_blocks


            class CampaignPage(Page):
                body = StreamField(landing_blocks(), blank=True)
            """
        )
    )
    (tmp_path / "site_settings.py").write_text(SETTINGS)
    script = (
        "import django; django.setup()\n"
        "from django.apps import apps\n"
        "from siteapp.models import CampaignPage\n"
        "from wagtail_journey.blocks import FormBlock\n"
        "assert apps.get_model('wagtail_journey', 'LandingPage')\n"
        "assert any(isinstance(b, FormBlock) for b in "
        "CampaignPage._meta.get_field('body').stream_block.child_blocks.values())\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env={"PYTHONPATH": f"{tmp_path}:{ROOT}", "DJANGO_SETTINGS_MODULE": "site_settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "ok"
