"""conf.py: every setting read in one place, with its default, and documented."""

import re
from pathlib import Path

import pytest
from django.test import override_settings

from wagtail_journey.conf import CONSENT_MODES, DEFAULTS, IP_PROOF_MODES, journey_settings

SETTINGS_DOC = Path(__file__).resolve().parent.parent / "docs" / "settings.md"


@pytest.mark.parametrize("value", [None, {}])
def test_every_setting_has_its_default_when_nothing_is_configured(value):
    with override_settings(WAGTAIL_JOURNEY=value):
        for key, default in DEFAULTS.items():
            assert getattr(journey_settings, key) == default
        assert journey_settings.unknown_keys() == []


def test_defaults_apply_when_the_setting_is_absent(settings):
    del settings.WAGTAIL_JOURNEY
    assert journey_settings.TRACKING_CONSENT_MODE == "required"


def test_a_configured_value_wins_and_the_rest_keep_their_defaults():
    with override_settings(WAGTAIL_JOURNEY={"TRACKING_CONSENT_MODE": "exempt"}):
        assert journey_settings.TRACKING_CONSENT_MODE == "exempt"
        assert journey_settings.VISITOR_COOKIE_NAME == "wj_vid"


def test_values_are_read_on_every_access_so_overrides_apply_at_once():
    assert journey_settings.SESSION_TIMEOUT_MINUTES == 30
    with override_settings(WAGTAIL_JOURNEY={"SESSION_TIMEOUT_MINUTES": 5}):
        assert journey_settings.SESSION_TIMEOUT_MINUTES == 5
    assert journey_settings.SESSION_TIMEOUT_MINUTES == 30


def test_reading_an_unknown_setting_is_a_programming_error():
    with pytest.raises(AttributeError, match="Unknown wagtail_journey setting: TRACKING_MODE"):
        journey_settings.TRACKING_MODE  # noqa: B018


def test_unknown_keys_lists_likely_typos_in_order():
    with override_settings(
        WAGTAIL_JOURNEY={"TRACKING_MODE": "exempt", "COOKIE_AGE": 1, "SHOP_SECRET": "s"}
    ):
        assert journey_settings.unknown_keys() == ["COOKIE_AGE", "TRACKING_MODE"]


def test_the_defaults_are_valid_choices():
    assert DEFAULTS["TRACKING_CONSENT_MODE"] in CONSENT_MODES
    assert DEFAULTS["CONSENT_IP_PROOF"] in IP_PROOF_MODES


def test_docs_settings_md_documents_exactly_the_settings_of_conf_py():
    """docs/settings.md has one ``### `KEY` `` section per key of DEFAULTS, with its default."""
    text = SETTINGS_DOC.read_text(encoding="utf-8")
    documented = re.findall(r"^### `([A-Z0-9_]+)`$", text, flags=re.MULTILINE)
    assert sorted(documented) == sorted(DEFAULTS)
    for key, default in DEFAULTS.items():
        section = text.split(f"### `{key}`", 1)[1].split("\n### ", 1)[0]
        assert f"Default: `{default!r}`" in section, key


def test_docs_do_not_call_a_setting_planned_when_code_reads_it():
    """A key the package's code reads belongs to a built feature: its section in
    docs/settings.md may not mark it "(planned)" (only what is not built yet)."""
    package = Path(__file__).resolve().parent.parent / "wagtail_journey"
    code = "\n".join(
        path.read_text(encoding="utf-8")
        for path in package.rglob("*.py")
        if path.name != "conf.py" and "migrations" not in path.parts
    )
    text = SETTINGS_DOC.read_text(encoding="utf-8")
    marked = []
    for key in DEFAULTS:
        section = text.split(f"### `{key}`", 1)[1].split("\n### ", 1)[0]
        used = re.search(rf"\b{key}\b", code)
        if used and re.search(r"\bplanned\b", section, re.IGNORECASE):
            marked.append(key)
    assert marked == [], f"built but documented as planned: {marked}"
