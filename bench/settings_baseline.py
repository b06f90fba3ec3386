"""The same example site without wagtail_journey: the baseline of page-view benchmarks.

The apps the installation guide adds for wagtail_journey (it and what it needs)
leave INSTALLED_APPS, any middleware or context processor of the package
leaves too, and the URLconf has no journey/ endpoints. Pages, templates,
database and server are the same. The database still holds the journey's
tables (the bench prepares one database for both sites); nothing reads them.

If the demo templates ever load a wagtail_journey template tag library (for
journey.js), give this site a stub library of the same name under
TEMPLATES[0]["OPTIONS"]["libraries"] that renders nothing.
"""

from bench.settings_common import *  # noqa: F403
from bench.settings_common import INSTALLED_APPS, MIDDLEWARE, TEMPLATES

#: Installed for wagtail_journey by docs/installation.md.
JOURNEY_APPS = {"wagtail_journey", "wagtail_modeladmin", "django_q", "anymail"}


def _not_journey(dotted: str) -> bool:
    return dotted.split(".")[0] not in JOURNEY_APPS


INSTALLED_APPS = [app for app in INSTALLED_APPS if _not_journey(app)]
MIDDLEWARE = [m for m in MIDDLEWARE if _not_journey(m)]
TEMPLATES = [
    {
        **engine,
        "OPTIONS": {
            **engine.get("OPTIONS", {}),
            "context_processors": [
                cp
                for cp in engine.get("OPTIONS", {}).get("context_processors", [])
                if _not_journey(cp)
            ],
        },
    }
    for engine in TEMPLATES
]
ROOT_URLCONF = "bench.urls_baseline"
