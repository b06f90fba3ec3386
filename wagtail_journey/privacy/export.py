"""Export (GDPR art. 15 and 20): everything held about a contact, in one zip.

The zip holds ``data.json``, one JSON document that validates against the
versioned JSON Schema shipped in the package (``privacy/schema/export-v1.json``,
also served at ``<journey urls>/privacy/export-schema/v1.json``), and one
formula-safe CSV per section. The sections are the models the personal-data
registry (privacy/pii.py) gives a ``section``: consents with their versions
and exact texts, submissions, touchpoints (the stitched anonymous ones and
those of the contact's browsers included), the score ledger, stages, tags,
segments, outbound emails (their events are touchpoints), browsers, flows and
enrolments once a flow model registers one, plus the audit-log entries about
the contact. Rows are read with database iterators and written as they come:
memory does not grow with the history.

Three ways in: the admin's button (:func:`write_export` straight into the
response), ``manage.py export_contact``, and :func:`request_export` (the
preference centre): a django-q2 task builds the file, a transactional email
through the normal pipeline carries a signed, single-use link valid
``EXPORT_LINK_HOURS`` (at most 72), and the retention schedule deletes the
file once used or expired.
"""

from __future__ import annotations

import io
import json
import logging
import os
import secrets
import tempfile
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core import signing
from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from wagtail_journey import safe_csv
from wagtail_journey.conf import journey_settings
from wagtail_journey.links import public_url
from wagtail_journey.models import Contact, DataExport, Visitor
from wagtail_journey.privacy import audit, pii

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
SCHEMA_ID = f"urn:wagtail-journey:contact-export:{SCHEMA_VERSION}"
SCHEMA_PATH = Path(__file__).parent / "schema" / f"export-v{SCHEMA_VERSION}.json"
FORMAT = "wagtail_journey.contact_export"
#: The section written from Wagtail's audit log (not a registry model).
AUDIT_SECTION = "audit"
AUDIT_FIELDS = ("timestamp", "action", "label", "content_changed")
#: The key of the export email in emails.messages' registry.
MESSAGE = "data_export"
TASK = "wagtail_journey.privacy.export.build_export"
SALT = "wagtail_journey.export"
CHUNK = 2000


# --- what is exported ----------------------------------------------------------------


def _columns(model: type[models.Model]) -> list[models.Field]:
    return list(model._meta.concrete_fields)


def sections() -> list[tuple[str, type[models.Model], pii.ModelPrivacy]]:
    """(section name, model, declaration) for every exported model, in a stable order."""
    found = [
        (privacy.section, model, privacy)
        for model, privacy in pii.registered_models()
        if privacy.section and (privacy.subject or privacy.visitor)
    ]
    return sorted(found, key=lambda item: item[0])


def section_fields(model: type[models.Model], privacy: pii.ModelPrivacy) -> list[str]:
    """The keys of one row of a section: the model's columns, then the extras."""
    return [f.attname for f in _columns(model)] + list(privacy.export_extra)


def _rows(model, privacy, contact: Contact, visitor_ids: list[int]) -> Iterator[dict]:
    q = models.Q()
    if privacy.subject:
        q |= models.Q(**{privacy.subject: contact.pk})
    if privacy.visitor and visitor_ids:
        q |= models.Q(**{f"{privacy.visitor}__in": visitor_ids})
    qs = model._base_manager.filter(q).order_by("pk").values(*section_fields(model, privacy))
    return qs.iterator(chunk_size=CHUNK)


def _audit_rows(contact: Contact) -> Iterator[dict]:
    from django.contrib.contenttypes.models import ContentType
    from wagtail.models import ModelLogEntry

    return (
        ModelLogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Contact), object_id=str(contact.pk)
        )
        .order_by("timestamp", "pk")
        .values(*AUDIT_FIELDS)
        .iterator(chunk_size=CHUNK)
    )


def _contact_fields(contact: Contact) -> dict[str, Any]:
    return {f.attname: getattr(contact, f.attname) for f in _columns(Contact)}


def _all_sections(contact: Contact) -> Iterator[tuple[str, list[str], Iterator[dict]]]:
    visitor_ids = list(Visitor.objects.filter(contact=contact).values_list("pk", flat=True))
    for name, model, privacy in sections():
        yield name, section_fields(model, privacy), _rows(model, privacy, contact, visitor_ids)
    yield AUDIT_SECTION, list(AUDIT_FIELDS), _audit_rows(contact)


# --- writing -------------------------------------------------------------------------


def _dumps(value: Any) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"))


def write_export(contact: Contact, fileobj: IO[bytes]) -> None:
    """Write ``contact``'s export as a zip into ``fileobj`` (which need not be seekable).

    Rows are streamed from database iterators into compressed entries: memory
    stays flat whatever the number of touchpoints.
    """
    contact.refresh_from_db()
    with zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        with zf.open("data.json", "w", force_zip64=True) as raw:
            out = io.TextIOWrapper(raw, encoding="utf-8")
            out.write("{")
            out.write(f'"format":{_dumps(FORMAT)},"version":{SCHEMA_VERSION},')
            out.write(f'"$schema":{_dumps(SCHEMA_ID)},')
            out.write(f'"generated_at":{_dumps(timezone.now())},')
            out.write(f'"contact":{_dumps(_contact_fields(contact))},"sections":{{')
            for i, (name, _fields, rows) in enumerate(_all_sections(contact)):
                out.write(("," if i else "") + f"{_dumps(name)}:[")
                for j, row in enumerate(rows):
                    out.write(("," if j else "") + _dumps(row))
                out.write("]")
            out.write("}}")
            out.flush()
            out.detach()
        _write_csv(zf, "contact.csv", list(_contact_fields(contact)), [_contact_fields(contact)])
        for name, fields, rows in _all_sections(contact):
            _write_csv(zf, f"{name}.csv", fields, rows)
        zf.writestr("README.txt", _readme())


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return _dumps(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _write_csv(zf: zipfile.ZipFile, name: str, fields: list[str], rows) -> None:
    with zf.open(name, "w", force_zip64=True) as raw:
        out = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        writer = safe_csv.writer(out)
        writer.writerow(fields)
        for row in rows:
            writer.writerow([_csv_value(row.get(f)) for f in fields])
        out.flush()
        out.detach()


def _readme() -> str:
    return (
        "data.json: everything held about you, one JSON document "
        f"(schema {SCHEMA_ID}, file export-v{SCHEMA_VERSION}.json in wagtail_journey).\n"
        "The CSV files hold the same sections as tables, one file per section.\n"
    )


# --- the published schema ------------------------------------------------------------


def _json_type(f: models.Field) -> dict[str, Any]:
    if isinstance(f, models.JSONField):
        return {}
    if f.is_relation:
        kind: dict[str, Any] = {"type": ["integer", "string", "null"]}
    elif isinstance(f, models.BooleanField):
        kind = {"type": ["boolean", "null"]}
    elif isinstance(f, models.IntegerField):
        kind = {"type": ["integer", "null"]}
    elif isinstance(f, models.FloatField | models.DecimalField):
        kind = {"type": ["number", "string", "null"]}
    elif isinstance(f, models.DateTimeField):
        kind = {"type": ["string", "null"], "format": "date-time"}
    elif isinstance(f, models.DateField):
        kind = {"type": ["string", "null"], "format": "date"}
    else:
        kind = {"type": ["string", "null"]}
    return kind


def _object_schema(model, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    props = {f.attname: _json_type(f) for f in _columns(model)}
    props.update({name: {"type": ["string", "integer", "null"]} for name in extra})
    return {
        "type": "object",
        "required": list(props),
        "additionalProperties": False,
        "properties": props,
    }


def build_schema() -> dict[str, Any]:
    """The JSON Schema of :func:`write_export`'s ``data.json``, from the registry.

    The shipped file (``SCHEMA_PATH``) must equal it (a test says so): a new
    exported column changes the published schema, and with it the version.
    """
    section_schemas = {
        name: {"type": "array", "items": _object_schema(model, privacy.export_extra)}
        for name, model, privacy in sections()
    }
    section_schemas[AUDIT_SECTION] = {
        "type": "array",
        "items": {
            "type": "object",
            "required": list(AUDIT_FIELDS),
            "additionalProperties": False,
            "properties": {
                "timestamp": {"type": "string", "format": "date-time"},
                "action": {"type": "string"},
                "label": {"type": "string"},
                "content_changed": {"type": "boolean"},
            },
        },
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "wagtail_journey: everything held about one contact",
        "type": "object",
        "required": ["format", "version", "$schema", "generated_at", "contact", "sections"],
        "additionalProperties": False,
        "properties": {
            "format": {"const": FORMAT},
            "version": {"const": SCHEMA_VERSION},
            "$schema": {"const": SCHEMA_ID},
            "generated_at": {"type": "string", "format": "date-time"},
            "contact": _object_schema(Contact),
            "sections": {
                "type": "object",
                "required": sorted(section_schemas),
                "additionalProperties": False,
                "properties": dict(sorted(section_schemas.items())),
            },
        },
    }


@cache
def published_schema() -> str:
    """The shipped schema file's text (served as is)."""
    return SCHEMA_PATH.read_text(encoding="utf-8")


# --- export files, links and the email ----------------------------------------------


def export_storage() -> Storage:
    """Where export files are kept: the ``wagtail_journey_exports`` entry of
    STORAGES if the site defines one (shared by every worker), else the private
    directory EXPORT_DIR (never under MEDIA_ROOT: the files are not public)."""
    if "wagtail_journey_exports" in getattr(settings, "STORAGES", {}):
        return storages["wagtail_journey_exports"]
    location = journey_settings.EXPORT_DIR or os.path.join(
        tempfile.gettempdir(), "wagtail_journey_exports"
    )
    return FileSystemStorage(location=location)


def link_hours() -> int:
    return min(int(journey_settings.EXPORT_LINK_HOURS), 72)


class InvalidToken(Exception):
    """A forged, damaged, expired or used link (the visitor is told nothing more)."""


def make_token(export: DataExport) -> str:
    return signing.dumps({"e": export.pk, "r": export.reference}, salt=SALT, compress=True)


def read_token(token: str) -> DataExport:
    """The ready export behind ``token``, or InvalidToken (whatever the reason)."""
    try:
        data = signing.loads(token, salt=SALT, max_age=link_hours() * 3600)
    except signing.BadSignature:  # includes SignatureExpired
        raise InvalidToken from None
    export = (
        DataExport.objects.filter(
            pk=data.get("e"),
            reference=data.get("r"),
            status=DataExport.Status.READY,
            expires_at__gt=timezone.now(),
        )
        .exclude(file_name="")
        .first()
    )
    if export is None:
        raise InvalidToken
    return export


def consume(token: str) -> tuple[DataExport, IO[bytes]]:
    """Use the link once: marks the export downloaded and opens its file."""
    export = read_token(token)
    used = DataExport.objects.filter(pk=export.pk, status=DataExport.Status.READY).update(
        status=DataExport.Status.DOWNLOADED, downloaded_at=timezone.now()
    )
    if not used:
        raise InvalidToken
    return export, export_storage().open(export.file_name, "rb")


def request_export(contact: Contact, *, via: str) -> None:
    """Build ``contact``'s export in a worker and email a single-use download link.

    The link goes to the contact's address as a transactional message through
    the email pipeline (never to a suppressed or erased address). A request
    while another is being prepared adds nothing.
    """
    with transaction.atomic():
        if DataExport.objects.filter(contact=contact, status=DataExport.Status.PENDING).exists():
            return
        export = DataExport.objects.create(contact=contact, via=via[:32])
        pk = export.pk
        transaction.on_commit(lambda: enqueue_build(pk), robust=True)


def enqueue_build(export_id: int) -> None:
    from django_q.tasks import async_task

    async_task(
        TASK,
        export_id,
        task_name=f"journey-export-{export_id}",
        group="wagtail_journey.privacy",
    )


def build_export(export_id: int) -> str:
    """Task: write the file, mark the export ready, queue the email (idempotent)."""
    name = f"{secrets.token_hex(16)}.zip"
    claimed = DataExport.objects.filter(
        pk=export_id, status=DataExport.Status.PENDING, file_name=""
    ).update(file_name=name)
    if not claimed:
        return "already"
    export = DataExport.objects.select_related("contact").get(pk=export_id)
    contact = export.contact
    if contact.erased_at is not None:
        DataExport.objects.filter(pk=export_id).update(
            status=DataExport.Status.FAILED, file_name=""
        )
        return "erased"
    storage = export_storage()
    with tempfile.TemporaryFile() as tmp:
        write_export(contact, tmp)
        tmp.seek(0)
        stored = storage.save(name, File(tmp, name=name))
    now = timezone.now()
    with transaction.atomic():
        DataExport.objects.filter(pk=export_id).update(
            file_name=stored,
            status=DataExport.Status.READY,
            ready_at=now,
            expires_at=now + timedelta(hours=link_hours()),
        )
        audit.log_contact(
            contact, audit.EXPORTED, data={"via": export.via, "export": export.reference}
        )
        from wagtail_journey.emails.sending import queue

        queue(
            idempotency_key=f"export:{export_id}",
            contact=contact,
            message=MESSAGE,
            context={"export": export_id},
        )
    return "ready"


def build_export_email(outbound: Any, links: dict):
    """Builder of the download-link email (emails.messages), rendered at send time."""
    from wagtail_journey.emails.messages import BuiltMessage, TemplateGone

    export = DataExport.objects.filter(
        pk=outbound.context.get("export"),
        contact_id=outbound.contact_id,
        status=DataExport.Status.READY,
    ).first()
    if export is None:
        raise TemplateGone("data export")
    context = {
        "url": public_url(reverse("wagtail_journey:export_download", args=[make_token(export)])),
        "hours": link_hours(),
    }
    return BuiltMessage(
        subject=_("Your data is ready to download"),
        text=render_to_string("wagtail_journey/email/data_export.txt", context),
        html=render_to_string("wagtail_journey/email/data_export.html", context),
        from_email=journey_settings.FROM_EMAIL or settings.DEFAULT_FROM_EMAIL,
    )


def sweep_exports(now=None) -> dict[str, int]:
    """Schedule: build exports whose task was lost, delete used and expired files.

    Files go once downloaded or expired; rows older than 30 days go too (the
    audit log keeps that an export happened).
    """
    now = now or timezone.now()
    counts = {"rebuilt": 0, "files_deleted": 0, "rows_deleted": 0}
    Status = DataExport.Status
    # A claim older than an hour belongs to a worker that died.
    stale = DataExport.objects.filter(
        status=Status.PENDING, created_at__lt=now - timedelta(hours=1)
    ).exclude(file_name="")
    stale.update(file_name="")
    for pk in DataExport.objects.filter(
        status=Status.PENDING, file_name="", created_at__lt=now - timedelta(minutes=5)
    ).values_list("pk", flat=True)[:100]:
        enqueue_build(pk)
        counts["rebuilt"] += 1
    DataExport.objects.filter(status=Status.READY, expires_at__lte=now).update(
        status=Status.EXPIRED
    )
    done = DataExport.objects.filter(
        status__in=(Status.DOWNLOADED, Status.EXPIRED, Status.FAILED)
    ).exclude(file_name="")
    storage = export_storage()
    for pk, name in list(done.values_list("pk", "file_name")[:1000]):
        try:
            storage.delete(name)
        except OSError:
            logger.warning("Export file %s could not be deleted", name)
            continue
        DataExport.objects.filter(pk=pk).update(file_name="")
        counts["files_deleted"] += 1
    old = DataExport.objects.filter(created_at__lt=now - timedelta(days=30), file_name="")
    counts["rows_deleted"] = old._raw_delete(old.db)
    return counts
