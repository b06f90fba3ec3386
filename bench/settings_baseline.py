"""The same example site without wagtail_journey: the baseline of page-view benchmarks.

The apps the installation guide adds for wagtail_journey (it and what it needs)
leave INSTALLED_APPS, any middleware or context processor of the package
leaves too, and the URLconf has no journey/ endpoints. Pages, templates,
database and server are the same. The database still holds the journey's
tables (the bench prepares one database for both sites); nothing reads them.

The demo templates load wagtail_journey's ``journey_tracking`` tag library
(journey.js, consent banner): here that name is bench/templatetags_stub.py,
the same tags rendering nothing. Pages of wagtail_journey's own types (the
demo's LandingPage) are not served here; the page-view benchmark leaves them out.
The demo's models import the package's form block: bench/stub_blocks.py stands
in for it.
"""

from bench.settings_common import *  # noqa: F403
from bench.settings_common import INSTALLED_APPS, JOURNEY_APPS, MIDDLEWARE, TEMPLATES


def _not_journey(dotted: str) -> bool:
    return dotted.split(".")[0] not in JOURNEY_APPS


# demo/models.py imports wagtail_journey's form block (StoryPage): the baseline
# gets bench/stub_blocks.py under that name instead of the package.
INSTALLED_APPS = ["bench.stub_blocks.BaselineStubConfig"] + [
    app for app in INSTALLED_APPS if _not_journey(app)
]
MIDDLEWARE = [m for m in MIDDLEWARE if _not_journey(m)]
TEMPLATES = [
    {
        **engine,
        "OPTIONS": {
            **engine.get("OPTIONS", {}),
            "libraries": {
                **engine.get("OPTIONS", {}).get("libraries", {}),
                "journey_tracking": "bench.templatetags_stub",
            },
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
