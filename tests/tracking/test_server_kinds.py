"""The browser cannot forge what the server records: every server-side kind is refused by collect.

The list lives in one place (``events.SERVER_KINDS`` and ``SERVER_KIND_PREFIXES``);
these tests read it, and read the package's source for every kind it records, so
a kind added later by any module is covered without editing this file.
"""

import ast
import json
from pathlib import Path

import pytest

import wagtail_journey
from wagtail_journey.events import KIND_RE, SERVER_KIND_PREFIXES, SERVER_KINDS, is_server_kind
from wagtail_journey.models import Touchpoint
from wagtail_journey.tracking.shop import SHOP_KINDS

pytestmark = pytest.mark.django_db

PACKAGE = Path(wagtail_journey.__file__).parent
#: Functions whose first argument (or ``kind=``) is the kind of a touchpoint the server records.
RECORDING_CALLS = {"record", "record_touchpoint", "record_batch", "item", "_record"}


def kinds_recorded_in_source() -> set[str]:
    """Every literal kind the package passes to record() and friends."""
    kinds = set()
    for path in PACKAGE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name not in RECORDING_CALLS:
                continue
            candidates = [*node.args[:1], *(k.value for k in node.keywords if k.arg == "kind")]
            for arg in candidates:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    kinds.add(arg.value)
    return kinds


def forged_kinds() -> list[str]:
    """Each listed kind, and a made-up member of each reserved family."""
    family = [f"{p}forged" if p.endswith("_") else p for p in SERVER_KIND_PREFIXES]
    return sorted({*SERVER_KINDS, *family, *SHOP_KINDS, *kinds_recorded_in_source()})


def test_the_source_scan_finds_the_kinds_the_package_records():
    found = kinds_recorded_in_source()
    # A scan that found nothing would make the next test vacuous.
    assert {"page_view", "form_submitted", "score_changed", "tag_added"} <= found


def test_every_kind_the_package_records_is_a_server_kind():
    recorded = kinds_recorded_in_source() | set(SHOP_KINDS)
    assert not {kind for kind in recorded if not is_server_kind(kind)}


@pytest.mark.parametrize("kind", forged_kinds())
def test_collect_refuses_every_server_kind(consented, kind):
    assert KIND_RE.match(kind), kind  # refused for being reserved, not for its spelling
    before = Touchpoint.objects.count()
    response = consented.post(
        "/journey/collect/",
        json.dumps({"events": [{"kind": "ok_event"}, {"kind": kind}]}),
        content_type="application/json",
        HTTP_ORIGIN="http://testserver",
    )
    assert response.status_code == 400
    assert response.json()["error"] == "This event name is reserved."
    assert Touchpoint.objects.count() == before  # the whole beacon is refused


@pytest.mark.parametrize("kind", ["video_play", "cta_click", "engagement", "pageviewed", "tags"])
def test_custom_kinds_are_still_accepted(consented, kind):
    response = consented.post(
        "/journey/collect/",
        json.dumps({"events": [{"kind": kind}]}),
        content_type="application/json",
        HTTP_ORIGIN="http://testserver",
    )
    assert response.status_code == 204
    assert Touchpoint.objects.filter(kind=kind).exists()
