"""System checks of email delivery (W075, W076, E075-E077)."""

from __future__ import annotations

import pytest
from django.test import override_settings

from wagtail_journey.checks import check_email_delivery


def ids(settings_overrides=None, **journey):
    from django.conf import settings

    with override_settings(
        WAGTAIL_JOURNEY={**settings.WAGTAIL_JOURNEY, **journey}, **(settings_overrides or {})
    ):
        return [m.id for m in check_email_delivery()]


def test_the_example_site_passes():
    assert ids() == []


def test_a_missing_webhook_secret_is_a_warning_with_a_provider():
    postmark = "anymail.backends.postmark.EmailBackend"
    assert ids({"ANYMAIL": {}, "EMAIL_BACKEND": postmark}) == ["wagtail_journey.W075"]


@pytest.mark.parametrize(
    "backend",
    ["django.core.mail.backends.console.EmailBackend", "anymail.backends.test.EmailBackend"],
)
def test_no_provider_needs_no_webhook_secret(backend):
    assert ids({"ANYMAIL": {}, "EMAIL_BACKEND": backend}) == []


def test_wagtails_jobs_not_on_django_q_is_a_warning():
    assert ids({"TASKS": {}}) == ["wagtail_journey.W076"]


@pytest.mark.parametrize("value", [0, -5, "10", None, 1.5])
def test_delivery_numbers_must_be_positive(value):
    assert ids(EMAIL_BATCH_SIZE=value) == ["wagtail_journey.E075"]


@pytest.mark.parametrize("cap", [3, (3,), (0, 24), ("3", 24), [3, 24, 1]])
def test_a_malformed_frequency_cap_is_an_error(cap):
    assert ids(EMAIL_FREQUENCY_CAP=cap) == ["wagtail_journey.E076"]


@pytest.mark.parametrize("quiet", [21, (21, 21), (24, 8), (-1, 8), ("21", "8")])
def test_malformed_quiet_hours_are_an_error(quiet):
    assert ids(EMAIL_QUIET_HOURS=quiet) == ["wagtail_journey.E077"]


def test_valid_cap_and_quiet_hours_pass():
    assert ids(EMAIL_FREQUENCY_CAP=(3, 24), EMAIL_QUIET_HOURS=(21, 8)) == []


def test_a_sending_run_longer_than_half_the_task_timeout_is_a_warning():
    from django.conf import settings

    long_run = {"Q_CLUSTER": {**settings.Q_CLUSTER, "timeout": 30}}
    assert ids(long_run, EMAIL_RUN_SECONDS=20) == ["wagtail_journey.W077"]
    assert ids(long_run, EMAIL_RUN_SECONDS=15) == []
    assert ids(EMAIL_RUN_SECONDS=0) == ["wagtail_journey.E075"]
