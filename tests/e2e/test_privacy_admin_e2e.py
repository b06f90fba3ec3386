"""An editor serves a person's rights from the contact page in chromium: restrict, export, erase."""

from __future__ import annotations

import json
import zipfile

import pytest
from playwright.sync_api import Page, expect

from demo.management.commands.load_demo import DEMO_ADMIN
from tests.e2e.test_admin_login import sign_in
from wagtail_journey.models import Contact, ErasureReceipt

pytestmark = pytest.mark.e2e


def test_an_editor_restricts_exports_and_erases_a_contact(page: Page, demo_site):
    ana = Contact.objects.get(email="ana.silva@example.com")
    page.goto(f"/admin/wagtail_journey/contact/inspect/{ana.pk}/")
    sign_in(page, *DEMO_ADMIN)
    panel = page.locator("[data-wj-privacy-panel]")
    expect(panel.get_by_role("heading", name="Privacy")).to_be_visible()

    panel.get_by_role("button", name="Restrict processing").click()
    expect(page.get_by_text("The contact's privacy settings were saved.")).to_be_visible()
    expect(page.locator("[data-wj-state=restriction]")).to_contain_text("Yes, since")
    ana.refresh_from_db()
    assert ana.restricted_at is not None

    with page.expect_download() as info:
        page.locator("[data-wj-export]").click()
    with zipfile.ZipFile(info.value.path()) as zf:
        data = json.loads(zf.read("data.json"))
    assert data["contact"]["email"] == "ana.silva@example.com"

    page.locator("[data-wj-erase]").click()
    expect(page.locator("[data-wj-erasure-plan]")).to_contain_text("wagtail_journey_contact")
    page.get_by_label("I understand that this cannot be undone.").check()
    page.get_by_role("button", name="Erase this contact").click()
    expect(page.get_by_text("The contact's personal data was erased")).to_be_visible()
    expect(page.locator("[data-wj-privacy-panel]")).to_contain_text("Personal data erased on")
    ana.refresh_from_db()
    assert ana.erased_at is not None and ana.first_name == ""
    assert ErasureReceipt.objects.filter(contact_ref=ana.pk).exists()
