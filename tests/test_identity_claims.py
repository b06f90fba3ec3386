"""Claiming someone else's address (issue 9, item 2): a form is no proof of identity.

Ana is a contact. Mallory knows her address and types it into forms. Each test
is one thing Mallory tried; docs/architecture.md ("Identity") has the rule.
"""

import re

import pytest
from django.core import mail
from django.test import Client

from tests.forms_helpers import form_id, hidden_values, make_landing_page, make_purposes
from wagtail_journey import record
from wagtail_journey.identity import address_confirmed, get_or_create_contact, prove_control
from wagtail_journey.models import (
    ConsentRecord,
    Contact,
    FormSubmission,
    LifecycleTransition,
    ScoringRule,
    Touchpoint,
    Visitor,
)
from wagtail_journey.privacy.consent import contacts_with_consent, has_consent, record_consent
from wagtail_journey.tracking.shop import record_shop_event

pytestmark = pytest.mark.django_db

BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"


@pytest.fixture
def purposes(db):
    return make_purposes()


@pytest.fixture
def landing(home_page, purposes):
    return make_landing_page(home_page, purposes)


@pytest.fixture
def ana(purposes):
    """Ana: a known contact whose marketing consent is confirmed."""
    contact, _ = get_or_create_contact("ana@example.com")
    Contact.objects.filter(pk=contact.pk).update(first_name="Ana", score=10)
    consent = record_consent(contact, purposes[1], "granted", method="form")
    ConsentRecord.objects.filter(pk=consent.pk).update(confirmed_at=consent.created_at)
    contact.refresh_from_db()
    return contact


def browser() -> Client:
    """A browser that granted analytics consent (so it has a visitor cookie)."""
    web = Client(HTTP_USER_AGENT=BROWSER_UA)
    response = web.post(
        "/journey/collect/",
        b'{"consent": true}',
        content_type="application/json",
        HTTP_ORIGIN="http://testserver",
    )
    assert response.status_code == 204
    return web


def visitor_of(web: Client) -> Visitor:
    return Visitor.objects.get(key=web.cookies["wj_vid"].value)


def submit(web, page, data, capture):
    block_id = form_id(page)
    html = web.get(page.url).content.decode()
    payload = {**hidden_values(html, block_id), "wj_form": block_id, **data}
    with capture(execute=True):
        response = web.post(page.url, payload)
    assert response.status_code in (200, 302, 303)
    return response


def test_a_submission_for_a_known_address_fills_blank_fields_only(
    ana, landing, django_capture_on_commit_callbacks
):
    mallory = browser()
    submit(
        mallory,
        landing,
        {"email": "ANA@example.com", "first_name": "Mallory", "consent_privacy": "on"},
        django_capture_on_commit_callbacks,
    )
    ana.refresh_from_db()
    assert ana.first_name == "Ana"  # not overwritten
    submission = FormSubmission.objects.get()
    assert submission.contact == ana and submission.data["first_name"] == "Mallory"

    bare, _ = get_or_create_contact("bare@example.com")
    submit(
        mallory,
        landing,
        {"email": "bare@example.com", "first_name": "Bea", "consent_privacy": "on"},
        django_capture_on_commit_callbacks,
    )
    bare.refresh_from_db()
    assert bare.first_name == "Bea"  # a blank field is filled


def test_the_submitters_history_does_not_join_a_known_contact(
    ana, landing, article, django_capture_on_commit_callbacks
):
    ScoringRule.objects.create(name="views", kind="page_view", points=5)
    LifecycleTransition.objects.create(stage="mql", min_score=20)
    mallory = browser()
    for _ in range(4):
        mallory.get("/article/?utm_source=mallory&utm_campaign=claim")
    mallory.post(
        "/journey/collect/",
        b'{"page": %d, "events": [{"kind": "video_play"}]}' % article.pk,
        content_type="application/json",
        HTTP_ORIGIN="http://testserver",
    )
    submit(
        mallory,
        landing,
        {"email": "ana@example.com", "consent_privacy": "on"},
        django_capture_on_commit_callbacks,
    )
    mallory.get("/article/")  # after the submission too
    ana.refresh_from_db()
    visitor = visitor_of(mallory)
    assert visitor.contact_id is None
    assert not ana.touchpoints.filter(kind__in=["page_view", "video_play"]).exists()
    # 4 article views, an event, the landing page, the view after: all still anonymous.
    assert Touchpoint.objects.filter(visitor=visitor, contact__isnull=True).count() == 7
    assert ana.score == 10 and ana.lifecycle_stage == "subscriber"
    assert ana.first_touch.get("source") != "mallory"
    # The submission itself is about Ana's address: it is on her timeline,
    # without Mallory's browser.
    tp = ana.touchpoints.get(kind="form_submitted")
    assert tp.visitor_id is None


def test_a_new_address_takes_the_submitting_browser_at_once(
    landing, article, django_capture_on_commit_callbacks
):
    web = browser()
    web.get("/article/?utm_source=newsletter")
    submit(
        web,
        landing,
        {"email": "new@example.com", "consent_privacy": "on"},
        django_capture_on_commit_callbacks,
    )
    contact = Contact.objects.get(email="new@example.com")
    assert visitor_of(web).contact_id == contact.pk
    assert contact.touchpoints.filter(kind="page_view").count() == 2  # article, landing page
    assert contact.first_touch["source"] == "newsletter"
    assert contact.email_confirmed_at is None  # linked, but nothing proven yet


def test_confirmation_emails_echo_no_visitor_text_and_are_throttled(
    landing, settings, django_capture_on_commit_callbacks
):
    settings.WAGTAIL_JOURNEY = {**settings.WAGTAIL_JOURNEY, "DOUBLE_OPT_IN_THROTTLE": (2, 3600)}
    get_or_create_contact("victim@example.com")
    mallory = browser()
    for _ in range(5):
        submit(
            mallory,
            landing,
            {
                "email": "victim@example.com",
                "first_name": "Cheap pills at evil.example",
                "message": "Visit evil.example now",
                "consent_privacy": "on",
                "consent_marketing": "on",
            },
            django_capture_on_commit_callbacks,
        )
    assert len(mail.outbox) == 2
    for message in mail.outbox:
        assert "evil.example" not in message.body + message.alternatives[0][0] + message.subject
    pending = ConsentRecord.objects.filter(purpose__key="marketing").order_by("id")
    skipped = [r.confirmation_skipped for r in pending]
    assert skipped == ["", "", "throttled", "throttled", "throttled"]
    # Five submissions are still five submissions: nothing is lost for editors.
    assert FormSubmission.objects.count() == 5
    # Editors see why no email went out, on the contact's consent history.
    from django.contrib.auth.models import User

    editor = Client()
    editor.force_login(User.objects.create_superuser("ed", "ed@example.com", "pw"))
    contact = Contact.objects.get(email="victim@example.com")
    page = editor.get(f"/admin/wagtail_journey/contact/inspect/{contact.pk}/").content.decode()
    assert page.count("no email sent: Too many confirmation emails to this address") == 3


def test_only_the_browser_that_confirms_is_joined_and_only_once(
    landing, article, django_capture_on_commit_callbacks
):
    get_or_create_contact("ana@example.com")
    mallory = browser()
    mallory.get("/article/")
    submit(
        mallory,
        landing,
        {"email": "ana@example.com", "consent_privacy": "on", "consent_marketing": "on"},
        django_capture_on_commit_callbacks,
    )
    path = re.search(r"http://testserver(/journey/confirm/[^/\s]+/)", mail.outbox[-1].body)[1]

    # Ana opens the email on her own browser and confirms.
    ana_browser = browser()
    ana_browser.get("/article/?utm_source=ana")
    assert ana_browser.post(path).status_code == 200
    contact = Contact.objects.get(email="ana@example.com")
    assert contact.email_confirmed_at is not None
    assert visitor_of(ana_browser).contact_id == contact.pk
    assert contact.touchpoints.filter(kind="page_view").count() == 1  # Ana's own view
    tp = contact.touchpoints.get(kind="identified")
    assert tp.properties == {"how": "double_opt_in"}

    # Mallory's browser stays a stranger, even if it replays the link.
    mallory.post(path)
    assert visitor_of(mallory).contact_id is None
    assert not contact.touchpoints.filter(visitor=visitor_of(mallory)).exists()


def test_a_form_refusal_does_not_withdraw_a_confirmed_consent(
    ana, landing, django_capture_on_commit_callbacks
):
    mallory = browser()
    submit(
        mallory,
        landing,
        {"email": "ana@example.com", "consent_privacy": "on"},  # marketing left unticked
        django_capture_on_commit_callbacks,
    )
    assert ConsentRecord.objects.filter(contact=ana, action="refused").exists()  # kept as proof
    assert has_consent(ana, "marketing")
    assert list(contacts_with_consent("marketing")) == [ana]
    # A withdrawal (unsubscribe, preference centre, admin) still wins.
    record_consent(ana, ConsentRecord.objects.first().purpose, "withdrawn", method="unsubscribe")
    assert not has_consent(ana, "marketing")


def test_re_submitting_with_marketing_ticked_keeps_a_confirmed_consent(
    ana, landing, django_capture_on_commit_callbacks
):
    """Item 15: the new grant waits for nothing; the confirmed one stays valid."""
    submit(
        browser(),
        landing,
        {"email": "ana@example.com", "consent_privacy": "on", "consent_marketing": "on"},
        django_capture_on_commit_callbacks,
    )
    assert has_consent(ana, "marketing")
    assert list(contacts_with_consent("marketing")) == [ana]  # segments and sending agree
    latest = ConsentRecord.objects.filter(contact=ana, purpose__key="marketing").first()
    assert latest.action == "granted" and latest.confirmation_skipped == "already"
    assert len(mail.outbox) == 0  # nothing to confirm again


def test_record_links_a_browser_to_a_known_contact_only_when_told_it_is_proven(ana):
    visitor = Visitor.objects.create()
    record("page_view", visitor=visitor)
    tp = record("form_submitted", visitor=visitor, contact=ana)
    visitor.refresh_from_db()
    assert visitor.contact_id is None and tp.visitor_id is None
    tp = record("form_submitted", visitor=visitor, email="ana@example.com")
    visitor.refresh_from_db()
    assert visitor.contact_id is None and tp.visitor_id is None

    ana.email_confirmed_at = None
    Contact.objects.filter(pk=ana.pk).update(email_confirmed_at=None)
    assert not address_confirmed(ana)
    assert prove_control(visitor, ana, "email_link") is True
    assert address_confirmed(ana)
    visitor.refresh_from_db()
    assert visitor.contact_id == ana.pk
    assert ana.touchpoints.filter(kind="page_view").count() == 1
    assert prove_control(visitor, ana, "email_link") is False  # already linked: nothing new


def test_a_guest_checkout_does_not_join_the_browser_but_a_signed_in_one_does(ana):
    guest = Visitor.objects.create()
    record("page_view", visitor=guest)
    record_shop_event("order_completed", email="ana@example.com", visitor=guest, order_id="A1")
    guest.refresh_from_db()
    assert guest.contact_id is None

    record_shop_event(
        "order_completed",
        email="ana@example.com",
        visitor=guest,
        order_id="A2",
        authenticated=True,
    )
    guest.refresh_from_db()
    assert guest.contact_id == ana.pk
    assert ana.touchpoints.get(kind="identified").properties == {"how": "shop_login"}
