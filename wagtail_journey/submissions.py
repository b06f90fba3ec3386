"""Turn a valid form into a contact, a submission, consent records and a touchpoint.

Everything happens in one transaction: either all of it is stored or nothing.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest

from wagtail_journey.blocks.form import field_name
from wagtail_journey.events import record
from wagtail_journey.forms import JourneyForm, consent_field_name
from wagtail_journey.identity import get_or_create_contact
from wagtail_journey.models import ConsentRecord, Contact, FormSubmission
from wagtail_journey.privacy import double_opt_in
from wagtail_journey.privacy.consent import answer_proof, record_consent, version_for
from wagtail_journey.privacy.proof import ip_for_proof, user_agent
from wagtail_journey.ratelimit import client_ip
from wagtail_journey.tags import add_tags
from wagtail_journey.tracking.visitors import visitor_from_request

PROFILE_FIELDS = ("first_name", "last_name", "phone")


def contact_email(form: JourneyForm) -> str:
    fields = form.block_value["fields"]
    mapped = [f for f in fields if f.get("maps_to") == "email"]
    email_fields = mapped or [f for f in fields if f["field_type"] == "email"]
    return form.cleaned_data.get(field_name(email_fields[0]), "") if email_fields else ""


def update_profile(contact: Contact, form: JourneyForm) -> list[str]:
    """Progressive profiling: fill the contact's blank fields, never change or blank one.

    A form only says what someone typed, not who typed it: a known name stays
    as it is, and what was submitted is kept on the submission for editors.
    The UPDATE re-checks each field is still blank, so a concurrent change is
    not overwritten either.
    """
    changes: dict[str, str] = {}
    for f in form.block_value["fields"]:
        target = f.get("maps_to")
        if target in PROFILE_FIELDS and target not in changes:
            value = str(form.cleaned_data.get(field_name(f)) or "").strip()
            if value and not getattr(contact, target):
                changes[target] = value
    for key, value in changes.items():
        if Contact.objects.filter(pk=contact.pk, **{key: ""}).update(**{key: value}):
            setattr(contact, key, value)
    return sorted(changes)


def submitted_data(form: JourneyForm) -> dict[str, Any]:
    return {field_name(f): form.cleaned_data.get(field_name(f)) for f in form.block_value["fields"]}


@transaction.atomic
def process_submission(
    request: HttpRequest, page: Any, block_id: str, form: JourneyForm
) -> FormSubmission:
    """Store a valid submission: contact, submission, consents, tags, touchpoint."""
    value = form.block_value
    contact, created = get_or_create_contact(contact_email(form))
    update_profile(contact, form)
    visitor = visitor_from_request(request)

    proof = {
        "source_url": request.build_absolute_uri()[:500],
        "form_key": block_id,
        "ip_address": ip_for_proof(client_ip(request)),
        "user_agent": user_agent(request),
    }
    answers = []  # (purpose, version shown, action)
    snapshot: dict[str, dict[str, Any]] = {}
    for purpose in form.purposes:
        ticked = bool(form.cleaned_data.get(consent_field_name(purpose.key)))
        action = ConsentRecord.Action.GRANTED if ticked else ConsentRecord.Action.REFUSED
        version = version_for(purpose, form.shown_versions.get(purpose.key))
        answer = answer_proof(version, action)
        answers.append((purpose, version, action))
        snapshot[purpose.key] = {
            "version": version.number,
            "action": action,
            "text": answer["text_shown"],
            "double_opt_in": answer["double_opt_in"],
        }
    submission = FormSubmission.objects.create(
        page=page,
        form_key=block_id,
        form_name=value["name"],
        contact=contact,
        visitor=visitor,
        data=submitted_data(form),
        consent_snapshot=snapshot,
    )
    needs_confirmation = []
    for purpose, version, action in answers:
        consent = record_consent(
            contact,
            purpose,
            action,
            method=ConsentRecord.Method.FORM,
            version=version,
            submission=submission,
            **proof,
        )
        if consent.double_opt_in:
            needs_confirmation.append(consent)

    tags = [t.strip() for t in (value.get("tags") or "").split(",") if t.strip()]
    if tags:
        # Through the tags module, like every other writer: each new tag is a
        # tag_added touchpoint that rules and segments can react to.
        add_tags(contact, *tags, source="form")

    # The identity rule (identity.py): a contact this submission created takes
    # the browser and its history; an existing one does not until the browser
    # proves control of the address (the confirmation link, an email link).
    record(
        "form_submitted",
        contact=contact,
        visitor=visitor,
        identify=True if created else None,
        page=page,
        journey_stage=value.get("journey_stage") or "",
        properties={
            "form": block_id,
            "form_name": value["name"],
            "submission": submission.pk,
            "consents": {k: v["action"] for k, v in snapshot.items()},
        },
    )
    for consent in needs_confirmation:
        double_opt_in.schedule_confirmation(consent)
    return submission
