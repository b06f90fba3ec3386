"""The personal-data registry: every field classified, a system check for each gap."""

from __future__ import annotations

import pytest

from wagtail_journey.privacy import pii


def test_every_field_of_every_model_is_classified():
    assert pii.check_registry() == []


def test_an_unclassified_field_fails_the_check(monkeypatch):
    declared = pii.registry()["wagtail_journey.Contact"]
    fields = {k: v for k, v in declared.fields.items() if k != "phone"}
    monkeypatch.setitem(
        pii._REGISTRY,
        "wagtail_journey.Contact",
        pii.ModelPrivacy(fields, subject="pk", erase=pii.ANONYMISE),
    )
    errors = pii.check_registry()
    assert [e.id for e in errors] == ["wagtail_journey.E081"]
    assert "Contact.phone" in errors[0].msg


def test_an_unregistered_model_fails_the_check(monkeypatch):
    monkeypatch.delitem(pii._REGISTRY, "wagtail_journey.ScoreChange")
    assert [e.id for e in pii.check_registry()] == ["wagtail_journey.E080"]


def test_wagtail_mixin_fields_are_classified_too():
    from wagtail_journey.models import EmailTemplate

    names = {f.name for f in pii.classifiable_fields(EmailTemplate)}
    assert {"live", "latest_revision"} <= names
    assert all(pii.field_class(EmailTemplate, n) for n in names)


@pytest.mark.parametrize("label", ["wagtail_journey.Touchpoint", "wagtail_journey.FormSubmission"])
def test_models_holding_a_person_say_how_they_reach_them(label):
    declared = pii.registry()[label]
    assert declared.subject and declared.erase in (pii.ANONYMISE, pii.DELETE)
    assert declared.personal_fields()


def test_a_field_a_newer_wagtail_adds_only_warns(monkeypatch):
    declared = pii.registry()["wagtail_journey.EmailTemplate"]
    fields = {k: v for k, v in declared.fields.items() if k != "live"}
    monkeypatch.setitem(pii._REGISTRY, "wagtail_journey.EmailTemplate", pii.ModelPrivacy(fields))
    assert [e.id for e in pii.check_registry()] == ["wagtail_journey.W080"]
