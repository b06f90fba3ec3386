"""System checks: each misconfiguration is reported with its id; the example site is clean."""

import importlib.util
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from demo.settings import base as example_settings
from wagtail_journey.checks import (
    check_installed_apps,
    check_journey_settings,
    check_public_links,
    check_q_cluster,
)

#: How many silenced checks fire in these settings: W053 on the per-process cache
#: of the SQLite run, none with Redis (make test-postgres).
SILENCED = 0 if "redis" in settings.CACHES["default"]["BACKEND"].lower() else 1
EXAMPLE_SITE = Path(__file__).resolve().parent.parent / "example_site"
ALL_CHECKS = (check_installed_apps, check_q_cluster, check_journey_settings, check_public_links)


def run_checks() -> list:
    return [message for check in ALL_CHECKS for message in check()]


def ids(messages) -> list[str]:
    return [m.id for m in messages]


def journey(**values):
    """override_settings for WAGTAIL_JOURNEY: the example site's dict plus ``values``."""
    return override_settings(WAGTAIL_JOURNEY={**example_settings.WAGTAIL_JOURNEY, **values})


# -- the example site is clean ---------------------------------------------------------------


def test_the_test_settings_pass_every_check():
    assert run_checks() == []


def test_the_example_sites_own_settings_pass_every_check():
    """base.py, not the test overrides: a real ORM broker (no sync) and the database cache."""
    with override_settings(
        Q_CLUSTER=example_settings.Q_CLUSTER,
        CACHES=example_settings.CACHES,
        WAGTAIL_JOURNEY=example_settings.WAGTAIL_JOURNEY,
    ):
        assert "sync" not in settings.Q_CLUSTER
        assert run_checks() == []


def test_manage_py_check_reports_no_issues():
    out = StringIO()
    call_command("check", stdout=out)
    # W053 (a per-process cache) is silenced in the tests: it fires only on SQLite's LocMem.
    assert out.getvalue().strip() == f"System check identified no issues ({SILENCED} silenced)."


def test_manage_py_check_on_the_example_site_reports_no_issues():
    """What `make demo` runs: the dev settings, in a fresh process, warnings count."""
    environ = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--fail-level", "WARNING"],
        cwd=EXAMPLE_SITE,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."


@pytest.mark.parametrize(
    "env",
    [
        pytest.param({"REDIS_URL": "redis://127.0.0.1:6379/15"}, id="redis"),
        pytest.param(
            {"DATABASE_URL": "postgres://u@127.0.0.1/j", "REDIS_URL": "redis://127.0.0.1/15"},
            id="postgres-redis",
        ),
        pytest.param({"DATABASE_URL": "postgres://u@127.0.0.1/j"}, id="postgres-orm"),
    ],
)
def test_the_example_sites_other_set_ups_pass_the_queue_checks(env, monkeypatch):
    """base.py read again with DATABASE_URL/REDIS_URL set, as in `make test-postgres`."""
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    spec = importlib.util.spec_from_file_location("_example_settings", example_settings.__file__)
    variant = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(variant)
    # Only the checks read this DATABASES; the open test connection keeps its own.
    monkeypatch.setattr(settings, "DATABASES", variant.DATABASES)
    with override_settings(Q_CLUSTER=variant.Q_CLUSTER, CACHES=variant.CACHES):
        assert check_q_cluster() == []
        assert check_journey_settings() == []


# -- INSTALLED_APPS ----------------------------------------------------------------------------


@pytest.mark.parametrize("app", ["django_q", "anymail", "taggit", "wagtail_modeladmin"])
def test_a_missing_required_app_is_an_error(app, monkeypatch):
    # Not override_settings: it would rebuild the app registry, which Wagtail's API
    # routers do not survive. The check only reads the setting.
    monkeypatch.setattr(
        settings, "INSTALLED_APPS", [a for a in settings.INSTALLED_APPS if a != app]
    )
    messages = check_installed_apps()
    assert ids(messages) == ["wagtail_journey.E001"]
    assert messages[0].msg == f"'{app}' must be in INSTALLED_APPS to use wagtail_journey."
    assert messages[0].hint


# -- Q_CLUSTER ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, {}, "journey"])
def test_no_q_cluster_is_an_error(value):
    with override_settings(Q_CLUSTER=value):
        messages = check_q_cluster()
    assert ids(messages) == ["wagtail_journey.E002"]
    assert "qcluster" in messages[0].hint


def test_no_q_cluster_setting_at_all_is_an_error(settings):
    del settings.Q_CLUSTER
    assert ids(check_q_cluster()) == ["wagtail_journey.E002"]


SQLITE = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "db.sqlite3"}}
POSTGRES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "journey"}}


@pytest.mark.parametrize(
    ("databases", "q_cluster", "expected"),
    [
        (SQLITE, {"name": "j", "orm": "default", "workers": 4}, ["wagtail_journey.W002"]),
        # django-q2 starts one worker per CPU when 'workers' is not set.
        (SQLITE, {"name": "j", "orm": "default"}, ["wagtail_journey.W002"]),
        (SQLITE, {"name": "j", "orm": "default", "workers": 1}, []),
        (SQLITE, {"name": "j", "redis": "redis://127.0.0.1:6379/0", "workers": 4}, []),
        (POSTGRES, {"name": "j", "orm": "default", "workers": 4}, []),
    ],
)
def test_more_than_one_worker_on_the_sqlite_orm_broker_is_a_warning(
    databases, q_cluster, expected, monkeypatch
):
    monkeypatch.setattr("wagtail_journey.checks.cpu_count", lambda: 8)
    # Only the check reads this DATABASES; the test database connection keeps its own.
    monkeypatch.setattr(settings, "DATABASES", databases)
    with override_settings(Q_CLUSTER=q_cluster):
        assert ids(check_q_cluster()) == expected


def test_the_orm_broker_must_name_a_configured_database():
    with override_settings(Q_CLUSTER={"name": "j", "orm": "queue", "workers": 1}):
        messages = check_q_cluster()
    assert ids(messages) == ["wagtail_journey.E009"]
    assert "'queue'" in messages[0].msg


def test_a_q_cluster_without_a_broker_warns_that_it_falls_back_to_local_redis():
    with override_settings(Q_CLUSTER={"name": "j", "workers": 1}):
        assert ids(check_q_cluster()) == ["wagtail_journey.W003"]
    with override_settings(Q_CLUSTER={"name": "j", "sync": True}):
        assert check_q_cluster() == []


# -- WAGTAIL_JOURNEY ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["always", "", None, "Required"])
def test_an_invalid_tracking_consent_mode_is_an_error(mode):
    with journey(TRACKING_CONSENT_MODE=mode):
        messages = check_journey_settings()
    assert ids(messages) == ["wagtail_journey.E003"]
    assert messages[0].hint == "Use one of: required, exempt."


@pytest.mark.parametrize("proof", ["partial", "", None])
def test_an_invalid_consent_ip_proof_is_an_error(proof):
    with journey(CONSENT_IP_PROOF=proof):
        messages = check_journey_settings()
    assert ids(messages) == ["wagtail_journey.E004"]
    assert messages[0].hint == "Use one of: truncate, hash, full, none."


def test_a_visitor_cookie_over_13_months_breaks_the_exemption():
    with journey(TRACKING_CONSENT_MODE="exempt", VISITOR_COOKIE_AGE_DAYS=396):
        messages = check_journey_settings()
    assert ids(messages) == ["wagtail_journey.E005"]
    assert "13 months" in messages[0].msg
    with journey(TRACKING_CONSENT_MODE="exempt", VISITOR_COOKIE_AGE_DAYS=395):
        assert check_journey_settings() == []
    # With consent required, a longer cookie is the site's choice.
    with journey(TRACKING_CONSENT_MODE="required", VISITOR_COOKIE_AGE_DAYS=730):
        assert check_journey_settings() == []


def test_anonymous_data_kept_over_25_months_breaks_the_exemption():
    with journey(TRACKING_CONSENT_MODE="exempt", ANONYMOUS_RETENTION_DAYS=761):
        assert ids(check_journey_settings()) == ["wagtail_journey.E006"]
    with journey(TRACKING_CONSENT_MODE="exempt", ANONYMOUS_RETENTION_DAYS=760):
        assert check_journey_settings() == []


@pytest.mark.parametrize(
    "key",
    [
        "VISITOR_COOKIE_AGE_DAYS",
        "SESSION_TIMEOUT_MINUTES",
        "ANONYMOUS_RETENTION_DAYS",
        "REPORT_ROLLUP_MINUTES",
    ],
)
@pytest.mark.parametrize("value", [0, -1, "30", 1.5, True, None])
def test_durations_must_be_positive_whole_numbers(key, value):
    with journey(TRACKING_CONSENT_MODE="exempt", **{key: value}):
        messages = check_journey_settings()
    assert ids(messages) == ["wagtail_journey.E007"]
    assert key in messages[0].msg


def test_the_rate_limit_cache_must_be_configured():
    with journey(RATE_LIMIT_CACHE="ratelimit"):
        messages = check_journey_settings()
    assert ids(messages) == ["wagtail_journey.E008"]


@pytest.mark.parametrize("alias", ["missing", "default"])  # default: LocMem or Redis per run
def test_the_tracking_buffer_must_name_a_redis_cache(alias, settings):
    redis = settings.CACHES["default"]["BACKEND"].endswith("redis.RedisCache")
    with journey(TRACKING_BUFFER=alias):
        messages = check_journey_settings()
    expected = [] if alias == "default" and redis else ["wagtail_journey.E013"]
    assert ids(messages) == expected


def test_wagtail_journey_must_be_a_dict():
    with override_settings(WAGTAIL_JOURNEY=[("TRACKING_CONSENT_MODE", "exempt")]):
        assert ids(check_journey_settings()) == ["wagtail_journey.E010"]


def test_an_unknown_key_is_a_warning_naming_it():
    with journey(TRACKING_MODE="exempt"):
        messages = check_journey_settings()
    assert ids(messages) == ["wagtail_journey.W001"]
    assert messages[0].msg == "Unknown key 'TRACKING_MODE' in WAGTAIL_JOURNEY."


@pytest.mark.parametrize("root", ["www.example.com", "ftp://example.com", "https://", 42])
def test_the_public_base_url_must_be_an_absolute_http_url(root):
    with journey(PUBLIC_BASE_URL=root):
        assert ids(check_public_links()) == ["wagtail_journey.E020"]


def test_no_configured_root_for_email_links_is_a_warning():
    with journey(PUBLIC_BASE_URL=None), override_settings(WAGTAILADMIN_BASE_URL=None):
        assert ids(check_public_links()) == ["wagtail_journey.W020"]
    with journey(PUBLIC_BASE_URL="https://www.example.com"):
        assert check_public_links() == []


# -- what a developer sees ---------------------------------------------------------------------


def test_manage_py_check_stops_on_an_error_with_id_and_hint():
    with (
        journey(TRACKING_CONSENT_MODE="sometimes"),
        pytest.raises(SystemCheckError) as exc,
    ):
        call_command("check")
    assert (
        "?: (wagtail_journey.E003) WAGTAIL_JOURNEY['TRACKING_CONSENT_MODE'] is 'sometimes'.\n"
        "\tHINT: Use one of: required, exempt."
    ) in str(exc.value)
    assert f"System check identified 1 issue ({SILENCED} silenced)." in str(exc.value)


def test_manage_py_check_prints_warnings_and_carries_on():
    out, err = StringIO(), StringIO()
    with journey(TRACKING_MODE="exempt"):
        call_command("check", stdout=out, stderr=err)
    assert err.getvalue() == (
        "System check identified some issues:\n\n"
        "WARNINGS:\n"
        "?: (wagtail_journey.W001) Unknown key 'TRACKING_MODE' in WAGTAIL_JOURNEY.\n"
        "\tHINT: Check the spelling against docs/settings.md.\n\n"
        f"System check identified 1 issue ({SILENCED} silenced).\n"
    )


@pytest.mark.parametrize(
    ("key", "value", "check_id"),
    [
        ("EMAIL_SCANNER_USER_AGENTS", "mimecast", "E070"),
        ("EMAIL_SCANNER_USER_AGENTS", ["Mimecast"], "E070"),
        ("EMAIL_MACHINE_CLICK_SECONDS", -1, "E071"),
        ("EMAIL_CLICK_IDENTIFY_DAYS", 0, "E071"),
        ("EMAIL_TEST_RATE_LIMIT", (10,), "E072"),
        ("EMAIL_TEST_RATE_LIMIT", (0, 60), "E072"),
    ],
)
def test_email_settings_are_checked(key, value, check_id):
    from wagtail_journey.checks import check_email_content

    with override_settings(WAGTAIL_JOURNEY={key: value}):
        assert [e.id for e in check_email_content()] == [f"wagtail_journey.{check_id}"]


def test_the_pure_python_mjml_package_is_an_error(monkeypatch):
    from importlib import metadata

    from wagtail_journey.checks import check_email_content

    real = metadata.distribution
    monkeypatch.setattr(
        metadata, "distribution", lambda name: object() if name == "mjml" else real(name)
    )
    assert [e.id for e in check_email_content()] == ["wagtail_journey.E073"]
