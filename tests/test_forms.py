"""Landing-page forms as visitors use them: render, validate, submit, consent."""

import pytest
from django.core import mail

from tests.forms_helpers import form_id, hidden_values, make_landing_page, make_purposes
from wagtail_journey.models import (
    ConsentRecord,
    Contact,
    FormSubmission,
    Touchpoint,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def purposes(db):
    return make_purposes()


@pytest.fixture
def landing(home_page, purposes):
    return make_landing_page(home_page, purposes)


def post(client, page, data, block_id=None, **extra):
    block_id = block_id or form_id(page)
    html = client.get(page.url).content.decode()
    payload = {**hidden_values(html, block_id), **data}
    payload.setdefault("wj_form", block_id)
    return client.post(page.url, payload, **extra)


def test_form_renders_accessible_and_never_pre_ticked(client, landing):
    response = client.get(landing.url)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="email"' in html and 'type="email"' in html
    assert 'name="consent_privacy"' in html and 'name="consent_marketing"' in html
    assert " checked" not in html  # Planet49: no pre-ticked consent box
    assert 'I accept the <a href="/privacy/">privacy policy</a>' in html
    # labels point at their inputs
    block = form_id(landing)[:8]
    assert f'<label for="wj-{block}-email">' in html
    # a page with a form is never stored by a shared cache
    assert "private" in response["Cache-Control"]


def test_missing_required_consent_shows_error_and_stores_nothing(client, landing):
    response = post(client, landing, {"email": "ana@example.com", "first_name": "Ana"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "Please tick this box to continue." in html
    assert 'value="ana@example.com"' in html  # input kept
    assert 'aria-invalid="true"' in html
    assert Contact.objects.count() == 0
    assert FormSubmission.objects.count() == 0
    assert ConsentRecord.objects.count() == 0
    assert Touchpoint.objects.count() == 0


def test_valid_submission_stores_everything_once(
    client, landing, purposes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(
            client,
            landing,
            {
                "email": " Ana@Example.COM ",
                "first_name": "Ana",
                "consent_privacy": "on",
                "consent_marketing": "on",
                "message": "Hi",
            },
            HTTP_USER_AGENT="Mozilla/5.0 Test",
            REMOTE_ADDR="203.0.113.77",
        )
    assert response.status_code == 200
    assert "Thanks for signing up!" in response.content.decode()

    contact = Contact.objects.get()
    assert contact.email == "ana@example.com"
    assert contact.first_name == "Ana"
    assert set(contact.tags.names()) == {"newsletter", "webinar"}

    submission = FormSubmission.objects.get()
    assert submission.page_id == landing.pk
    assert submission.form_key == form_id(landing)
    assert submission.data["message"] == "Hi"
    assert submission.consent_snapshot["privacy"]["action"] == "granted"
    assert submission.consent_snapshot["marketing"]["version"] == 1

    privacy = ConsentRecord.objects.get(purpose__key="privacy")
    assert privacy.action == "granted" and privacy.is_effective
    assert privacy.ip_address == "203.0.113.0/24"  # truncated by default
    assert privacy.user_agent == "Mozilla/5.0 Test"
    assert privacy.method == "form"
    assert "privacy policy" in privacy.text_shown
    assert privacy.source_url.endswith(landing.url)

    marketing = ConsentRecord.objects.get(purpose__key="marketing")
    assert marketing.action == "granted"
    assert marketing.double_opt_in and not marketing.is_effective  # until confirmed

    tp = Touchpoint.objects.get(kind="form_submitted")
    assert tp.contact == contact and tp.page_id == landing.pk
    assert tp.journey_stage == "consideration"
    assert tp.properties["submission"] == submission.pk

    # The confirmation email went out through anymail's test backend.
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ana@example.com"]
    assert "/journey/confirm/" in mail.outbox[0].body


def test_optional_consent_unticked_records_a_refusal(client, landing):
    post(client, landing, {"email": "jo@example.com", "consent_privacy": "on"})
    marketing = ConsentRecord.objects.get(purpose__key="marketing")
    assert marketing.action == "refused"
    assert len(mail.outbox) == 0


def test_progressive_profiling_never_blanks_a_known_value(client, landing):
    post(client, landing, {"email": "a@example.com", "first_name": "Ana", "consent_privacy": "on"})
    post(client, landing, {"email": "A@example.com", "first_name": "", "consent_privacy": "on"})
    contact = Contact.objects.get()
    assert contact.first_name == "Ana"
    assert FormSubmission.objects.count() == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "not-an-email"}, "Enter a valid email address."),
        ({"email": "x" * 250 + "@example.com"}, "at most 254 characters"),
        # The limit is the contact column the answer fills (first_name: 150).
        ({"email": "a@example.com", "first_name": "x" * 1_000_000}, "at most 150 characters"),
        ({"email": "a@example.com", "first_name": "x" * 151}, "at most 150 characters"),
        # 173 characters as typed, 333 once lower-cased (İ becomes i + a combining dot).
        ({"email": "a@" + ("İ" * 20 + ".") * 8 + "com"}, "at most 254 characters"),
        (
            {"email": "a@example.com", "first_name": "Ana\r\nBcc: victim@example.com"},
            "Line breaks are not allowed here.",
        ),
    ],
)
def test_bad_input_is_rejected_with_a_message_and_nothing_stored(client, landing, data, message):
    response = post(client, landing, {**data, "consent_privacy": "on"})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Contact.objects.count() == 0
    assert FormSubmission.objects.count() == 0


def test_html_and_js_are_escaped_on_the_page(client, landing):
    evil = '<script>alert("x")</script>'
    response = post(client, landing, {"email": "not-an-email", "first_name": evil, "message": evil})
    html = response.content.decode()
    assert evil not in html
    assert "&lt;script&gt;" in html


def test_html_is_stored_as_text_and_unicode_names_survive(client, landing):
    post(
        client,
        landing,
        {"email": "zoe@example.com", "first_name": "Zoë 李 <b>", "consent_privacy": "on"},
    )
    contact = Contact.objects.get()
    assert contact.first_name == "Zoë 李 <b>"


def test_honeypot_rejects_bots_and_stores_nothing(client, landing):
    response = post(
        client,
        landing,
        {"email": "bot@example.com", "consent_privacy": "on", "wj_hp": "http://spam.example"},
    )
    assert response.status_code == 400
    assert "looks automated" in response.content.decode()
    assert Contact.objects.count() == 0


def test_submitting_faster_than_a_human_is_rejected(client, landing, settings):
    settings.WAGTAIL_JOURNEY = {**settings.WAGTAIL_JOURNEY, "FORM_MIN_FILL_SECONDS": 30}
    response = post(client, landing, {"email": "fast@example.com", "consent_privacy": "on"})
    assert response.status_code == 400
    assert "That was quick!" in response.content.decode()
    assert Contact.objects.count() == 0


def test_forged_form_token_is_rejected(client, landing):
    response = client.post(
        landing.url,
        {
            "wj_form": form_id(landing),
            "wj_ts": "forged",
            "email": "f@example.com",
            "consent_privacy": "on",
        },
    )
    assert response.status_code == 400
    assert "could not be verified" in response.content.decode()
    assert Contact.objects.count() == 0


def test_rate_limit_per_ip(client, landing, settings):
    settings.WAGTAIL_JOURNEY = {**settings.WAGTAIL_JOURNEY, "FORM_RATE_LIMIT": (2, 600)}
    for i in range(2):
        ok = post(client, landing, {"email": f"r{i}@example.com", "consent_privacy": "on"})
        assert ok.status_code == 200
    blocked = post(client, landing, {"email": "r9@example.com", "consent_privacy": "on"})
    assert blocked.status_code == 429
    assert "Too many submissions" in blocked.content.decode()
    assert not Contact.objects.filter(email="r9@example.com").exists()
    # The page itself still serves.
    assert client.get(landing.url).status_code == 200


def test_deleted_form_block_gives_a_clear_error_and_keeps_data(client, landing, purposes):
    post(client, landing, {"email": "keep@example.com", "consent_privacy": "on"})
    old_id = form_id(landing)
    html = client.get(landing.url).content.decode()
    hidden = hidden_values(html, old_id)
    # The editor removes the form and publishes while the visitor has it open.
    landing.body = [{"type": "rich_text", "value": "<p>No form any more</p>"}]
    landing.save_revision().publish()
    response = client.post(
        landing.url, {**hidden, "email": "late@example.com", "consent_privacy": "on"}
    )
    assert response.status_code == 410
    assert "This form is no longer available" in response.content.decode()
    assert list(Contact.objects.values_list("email", flat=True)) == ["keep@example.com"]
    assert FormSubmission.objects.count() == 1


def test_two_forms_on_one_page_keep_their_identity_after_reordering(client, home_page, purposes):
    from tests.forms_helpers import form_block

    page = make_landing_page(
        home_page,
        purposes,
        slug="two",
        blocks=[form_block(purposes, name="First"), form_block(purposes, name="Second")],
    )
    second = form_id(page, 1)
    # Re-order the blocks: the second form's id stays the same.
    page.body = [dict(item) for item in reversed(list(page.body.raw_data))]
    page.save_revision().publish()
    page.refresh_from_db()
    assert form_id(page, 0) == second
    post(client, page, {"email": "two@example.com", "consent_privacy": "on"}, block_id=second)
    assert FormSubmission.objects.get().form_name == "Second"


def test_editing_consent_text_creates_a_version_and_old_records_keep_theirs(
    client, landing, purposes
):
    privacy, _ = purposes
    post(client, landing, {"email": "v1@example.com", "consent_privacy": "on"})
    privacy.text = "<p>I accept the new privacy policy.</p>"
    privacy.save()
    privacy.refresh_from_db()
    assert privacy.version == 2
    assert privacy.versions.count() == 2
    post(client, landing, {"email": "v2@example.com", "consent_privacy": "on"})
    first = ConsentRecord.objects.get(contact__email="v1@example.com", purpose=privacy)
    second = ConsentRecord.objects.get(contact__email="v2@example.com", purpose=privacy)
    assert first.version.number == 1 and "new privacy" not in first.text_shown
    assert second.version.number == 2 and "new privacy" in second.text_shown
    # Saving without a change makes no new version.
    privacy.save()
    assert privacy.versions.count() == 2
