"""Export: every section, valid against the published schema, streamed, and the emailed link."""

from __future__ import annotations

import csv
import io
import json
import re
import tracemalloc
import zipfile

import jsonschema
import pytest
from django.core import mail
from django.core.management import call_command

from tests.privacy.subject import EMAIL, build_subject
from tests.privacy.test_erasure import insert_touchpoints
from wagtail_journey.models import Contact, DataExport, OutboundEmail
from wagtail_journey.privacy import export
from wagtail_journey.privacy.export import build_schema, request_export, write_export

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _export_dir(tmp_path, settings):
    settings.WAGTAIL_JOURNEY = {**settings.WAGTAIL_JOURNEY, "EXPORT_DIR": str(tmp_path)}


@pytest.fixture
def subject(client, home_page, django_capture_on_commit_callbacks):
    return build_subject(client, home_page, django_capture_on_commit_callbacks)


def read_zip(data: bytes) -> tuple[dict, dict[str, list[list[str]]]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        document = json.loads(zf.read("data.json"))
        tables = {
            name.removesuffix(".csv"): list(csv.reader(io.StringIO(zf.read(name).decode())))
            for name in zf.namelist()
            if name.endswith(".csv")
        }
    return document, tables


def export_bytes(contact) -> bytes:
    out = io.BytesIO()
    write_export(contact, out)
    return out.getvalue()


def test_the_export_holds_every_section_and_validates_against_the_published_schema(subject):
    document, tables = read_zip(export_bytes(subject.contact))

    schema = json.loads(export.SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator(schema).validate(document)
    assert document["contact"]["email"] == EMAIL
    sections = document["sections"]
    for name in (
        "consents", "submissions", "touchpoints", "score_changes", "segments", "tags",
        "emails", "browsers", "stages", "audit",
    ):  # fmt: skip
        assert name in sections, name
        assert name in tables, name
    for name in ("consents", "submissions", "score_changes", "segments", "tags", "emails"):
        assert sections[name], name
    # Consents with their versions and the exact text shown.
    marketing = [c for c in sections["consents"] if c["purpose__key"] == "marketing"]
    assert marketing[0]["version__number"] == 1
    assert "Send me marketing emails." in marketing[0]["text_shown"]
    # Touchpoints include the anonymous page views made before identification.
    kinds = [t["kind"] for t in sections["touchpoints"]]
    assert kinds.count("page_view") >= 3 and "email_clicked" in kinds
    assert "form_submitted" in kinds
    assert "vip" in {t["tag__name"] for t in sections["tags"]}
    assert sections["segments"][0]["segment__name"] == "VIP"
    assert any(e["action"] == "wagtail.edit" for e in sections["audit"])
    # The CSVs hold the same rows.
    assert len(tables["touchpoints"]) == len(sections["touchpoints"]) + 1


def test_the_shipped_schema_is_the_one_the_registry_describes():
    assert json.loads(export.published_schema()) == build_schema()


def test_the_schema_is_published_at_a_public_url(client):
    response = client.get("/journey/privacy/export-schema/v1.json")
    assert response.status_code == 200
    assert json.loads(response.content)["$id"] == export.SCHEMA_ID


def test_csv_cells_cannot_become_formulas(db):
    contact = Contact.objects.create(email="f@example.org", first_name="=HYPERLINK(1)")
    _document, tables = read_zip(export_bytes(contact))
    header, row = tables["contact"]
    assert row[header.index("first_name")] == "'=HYPERLINK(1)"


@pytest.mark.scale
def test_an_export_of_100000_touchpoints_streams_with_flat_memory(db, tmp_path):
    contact = Contact.objects.create(email="big@example.org")
    insert_touchpoints(contact.pk, 1_000)
    small = _peak_memory(contact, tmp_path / "small.zip")
    insert_touchpoints(contact.pk, 99_000)
    big = _peak_memory(contact, tmp_path / "big.zip")
    # 100 times the rows, about the same memory (a list of them would take ~100 MB).
    assert big < small * 2 + 2_000_000, (small, big)
    with zipfile.ZipFile(tmp_path / "big.zip") as zf, zf.open("touchpoints.csv") as f:
        assert sum(1 for _ in f) == 100_001
    print(f"\nexport peak memory: 1,000 rows {small / 1e6:.1f} MB, 100,000 rows {big / 1e6:.1f} MB")


def _peak_memory(contact, path) -> int:
    tracemalloc.start()
    try:
        with open(path, "wb") as fileobj:
            write_export(contact, fileobj)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _link(message) -> str:
    return re.search(r"http://testserver(/journey/privacy/export/[^/\s]+/)", message.body).group(1)


def test_requested_export_is_emailed_as_a_single_use_link(
    client, subject, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        request_export(subject.contact, via="preference_centre")
    row = DataExport.objects.get()
    assert row.status == DataExport.Status.READY
    outbound = OutboundEmail.objects.get(message="data_export")
    assert outbound.purpose_id is None  # transactional
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [EMAIL]
    url = _link(mail.outbox[0])

    page = client.get(url)
    assert page.status_code == 200 and b"Download my data" in page.content
    download = client.post(url)
    assert download.status_code == 200
    document, _tables = read_zip(b"".join(download.streaming_content))
    assert document["contact"]["email"] == EMAIL
    # Used once: a replay gets the neutral answer.
    replay = client.post(url)
    assert replay.status_code == 410
    assert client.get(url).status_code == 410
    # The schedule deletes the used file.
    assert export.sweep_exports()["files_deleted"] == 1
    assert not export.export_storage().exists(row.file_name)


def test_forged_and_expired_links_are_refused_without_saying_why(
    client, subject, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    with django_capture_on_commit_callbacks(execute=True):
        request_export(subject.contact, via="preference_centre")
    url = _link(mail.outbox[-1])
    forged = client.post(url[:-6] + "xxxxx/")
    assert forged.status_code == 410
    DataExport.objects.update(expires_at=timezone.now())
    expired = client.post(url)
    assert expired.status_code == 410
    assert expired.content == forged.content


def test_a_restricted_contact_still_receives_the_export_it_asked_for(
    subject, django_capture_on_commit_callbacks
):
    from wagtail_journey.privacy.restriction import set_restricted

    set_restricted(subject.contact, True, by="test")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        request_export(subject.contact, via="preference_centre")
    assert len(mail.outbox) == 1


def test_the_command_writes_the_zip(subject, tmp_path):
    target = tmp_path / "out.zip"
    call_command("export_contact", EMAIL, output=str(target))
    document, _tables = read_zip(target.read_bytes())
    assert document["contact"]["id"] == subject.contact.pk
