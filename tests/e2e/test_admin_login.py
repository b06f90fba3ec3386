"""An editor signs in to the Wagtail admin of the demo and finds the demo contacts."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from demo.management.commands.load_demo import CONTACTS, DEMO_ADMIN

pytestmark = pytest.mark.e2e


def sign_in(page, username: str, password: str) -> None:
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_editor_signs_in_and_opens_the_contacts_from_the_journey_menu(page, demo_site, live_server):
    page.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login/\?next=/admin/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Wagtail")

    sign_in(page, *DEMO_ADMIN)

    # The dashboard of the demo site.
    expect(page).to_have_url(f"{live_server.url}/admin/")
    expect(page.get_by_role("main").get_by_role("heading", level=1)).to_have_text(
        "wagtail_journey demo"
    )
    menu = page.get_by_role("navigation", name="Main menu")
    journey = menu.get_by_role("button", name="Journey", exact=True)
    expect(journey).to_be_visible()

    journey.click()
    contacts = menu.get_by_role("link", name="Contacts", exact=True)
    expect(contacts).to_be_visible()
    expect(menu.get_by_role("link", name="Touchpoints", exact=True)).to_be_visible()
    contacts.click()

    expect(page).to_have_url(f"{live_server.url}/admin/wagtail_journey/contact/")
    main = page.get_by_role("main")
    expect(main.get_by_role("heading", level=1)).to_have_text("Contacts")
    for email, _first, _last, _visits in CONTACTS:
        expect(main.get_by_role("link", name=email, exact=True)).to_be_visible()
    email, first_name, last_name, _visits = CONTACTS[0]
    row = main.get_by_role("row").filter(has=page.get_by_role("link", name=email, exact=True))
    expect(row).to_have_count(1)
    expect(row).to_contain_text(f"{first_name} {last_name}")


def test_wrong_password_keeps_the_editor_on_the_login_form(page, demo_site):
    page.goto("/admin/login/")

    username, _password = DEMO_ADMIN
    sign_in(page, username, "not-the-password")

    expect(page).to_have_url(re.compile(r"/admin/login/"))
    expect(page.get_by_role("main")).to_contain_text(
        "Your username and password didn't match. Please try again."
    )
    expect(page.get_by_role("navigation", name="Main menu")).to_have_count(0)
