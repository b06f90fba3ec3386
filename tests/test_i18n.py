"""Translations: the fr and pt catalogues are complete, compiled, and what people see.

This module is also a URLconf: a site that installs wagtail_journey without
``i18n_patterns``, where Django picks the language from Accept-Language.
"""

import ast
import gettext
import json
from pathlib import Path

import pytest
from django.test import override_settings
from django.urls import include, path
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.users.models import UserProfile

import wagtail_journey
from wagtail_journey import urls as journey_urls

urlpatterns = [
    path("admin/", include(wagtailadmin_urls)),
    path("journey/", include(journey_urls)),
]

LOCALE = Path(wagtail_journey.__file__).resolve().parent / "locale"
LANGUAGES = ["fr", "pt"]

HEALTH = {
    "fr": "Le suivi des parcours fonctionne.",
    "pt": "O acompanhamento de percursos está a funcionar.",
}
# The Journey menu group and its items, as the admin sidebar lists them.
MENU = {
    "en": ("Journey", "Contacts", "Touchpoints", "Audience"),
    "fr": ("Parcours", "Contacts", "Points de contact", "Audience"),
    "pt": ("Percurso", "Contactos", "Pontos de contacto", "Audiência"),
}


def read_po(po: Path) -> list[dict]:
    """The entries of a .po file: msgctxt/msgid/msgid_plural/msgstr[n] and their flags."""
    entries, entry, field = [], {"flags": set()}, None
    for line in [*po.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if "msgid" in entry:
                entries.append(entry)
            entry, field = {"flags": set()}, None
        elif line.startswith("#,"):
            entry["flags"].update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            entry[field] += ast.literal_eval(line)
        else:
            field, _, value = line.partition(" ")
            entry[field] = ast.literal_eval(value)
    return entries


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_string_is_translated_and_none_is_fuzzy(lang):
    entries = read_po(LOCALE / lang / "LC_MESSAGES" / "django.po")
    header, messages = entries[0], entries[1:]
    assert header["msgid"] == ""
    assert f"Language: {lang}\n" in header["msgstr"]
    assert messages
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert fuzzy == [], "review these and remove '#, fuzzy' (docs/development.md)"
    untranslated = [
        e["msgid"] for e in messages if not all(v for k, v in e.items() if k.startswith("msgstr"))
    ]
    assert untranslated == [], "translate these (docs/development.md)"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_compiled_catalogue_matches_the_po_file(lang):
    """The .mo shipped in the package is the compiled form of the committed .po."""
    folder = LOCALE / lang / "LC_MESSAGES"
    with (folder / "django.mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)._catalog
    expected = {}
    for entry in read_po(folder / "django.po")[1:]:  # msgfmt rewrites the header
        msgid = entry["msgid"]
        if "msgctxt" in entry:
            msgid = f"{entry['msgctxt']}\x04{msgid}"
        if "msgid_plural" in entry:
            for key, value in entry.items():
                if key.startswith("msgstr["):
                    expected[(msgid, int(key[7:-1]))] = value
        else:
            expected[msgid] = entry["msgstr"]
    compiled.pop("")
    assert compiled == expected, "run `make messages` to recompile"


@override_settings(ROOT_URLCONF=__name__)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_visitor_reads_the_health_message_in_their_language(client, lang):
    response = client.get("/journey/health/", HTTP_ACCEPT_LANGUAGE=lang)
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "message": HEALTH[lang]}
    assert response["Content-Language"] == lang


def test_the_example_site_serves_the_health_message_in_the_visitors_language(client):
    response = client.get("/journey/health/", HTTP_ACCEPT_LANGUAGE="fr")
    assert response.json()["message"] == HEALTH["fr"]


def menu_labels(response) -> list[str]:
    content = response.content.decode()
    return [
        label
        for labels in MENU.values()
        for label in labels
        if f'"label": {json.dumps(label)}' in content  # non-ASCII is escaped in the menu's JSON
    ]


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser("editor", "editor@example.com", "pw")


@override_settings(ROOT_URLCONF=__name__)
def test_the_admin_menu_follows_the_browser_language(client, superuser):
    """No language chosen in the editor's Wagtail preferences: Accept-Language decides."""
    client.force_login(superuser)
    response = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 200
    assert '<html lang="fr"' in response.content.decode()
    assert set(MENU["fr"]) <= set(menu_labels(response))
    assert "Journey" not in menu_labels(response)


@pytest.mark.parametrize(
    ("preferred", "lang"),
    [
        ("fr", "fr"),
        # Wagtail offers "pt-pt" (and "pt-br") to editors; both find the package's "pt".
        ("pt-pt", "pt"),
    ],
)
def test_the_admin_menu_follows_the_editors_preferred_language(client, superuser, preferred, lang):
    """Wagtail's Account > Preferences > Language wins over the browser, on the example site."""
    profile = UserProfile.get_for_user(superuser)
    profile.preferred_language = preferred
    profile.save()
    client.force_login(superuser)
    response = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert set(menu_labels(response)) == set(MENU[lang])
