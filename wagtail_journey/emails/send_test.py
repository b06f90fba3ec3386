""" "Send a test to me": an editor receives the template as a contact would.

A test goes to the editor's own address, not to a contact, so it is not
consent-gated; it is clearly marked (subject, a banner, a header, a tag) and
its links are not tracked. The admin limits how many an editor may send.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.mail import EmailMultiAlternatives
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext as _

from wagtail_journey.conf import journey_settings
from wagtail_journey.emails.preview import preview_context
from wagtail_journey.emails.rendering import UNSUBSCRIBE_URL, compile_email, compiled
from wagtail_journey.ratelimit import hit

TAG = "journey-test"
HEADER = "X-Journey-Test"
_BODY = re.compile(r"(<body\b[^>]*>)", re.IGNORECASE)


class TooManyTests(Exception):
    """The editor sent EMAIL_TEST_RATE_LIMIT tests already in the window."""


def test_revision(template: Any) -> Any:
    """What a test shows: the latest revision, a draft included (editors test before publishing)."""
    return template.latest_revision or template.live_revision


def send_test_email(template: Any, to: str, *, user_id: int, contact: Any | None = None) -> None:
    """Send the latest revision of ``template`` to ``to``, with ``contact``'s
    data (or made-up data). Raises :class:`TooManyTests` over the limit."""
    limit, window = journey_settings.EMAIL_TEST_RATE_LIMIT
    if not hit("email_test", str(user_id), limit, window):
        raise TooManyTests
    revision = test_revision(template)
    context = {**preview_context(contact), UNSUBSCRIBE_URL: "#"}
    source = compiled(revision) if revision is not None else compile_email(template)
    rendered = source.personalise(context, None)
    with translation.override(template.language):
        subject = _("[Test] %(subject)s") % {"subject": rendered.subject}
        notice = _(
            "This is a test of the email template “%(name)s”. Its links are not tracked "
            "and it was sent without a consent check, to you only."
        ) % {"name": template.name}
    banner = (
        '<div style="background:#fef3c7;color:#78350f;padding:12px;font:14px sans-serif;'
        f'text-align:center">{escape(notice)}</div>'
    )
    message = EmailMultiAlternatives(
        subject=subject,
        body=f"{notice}\n\n{rendered.text}",
        from_email=rendered.from_email,
        to=[to],
        reply_to=rendered.reply_to,
        headers={HEADER: "1"},
    )
    message.attach_alternative(_BODY.sub(lambda m: m[1] + banner, rendered.html, 1), "text/html")
    message.tags = [TAG]
    message.metadata = {"email_template": str(template.pk), "revision": str(rendered.revision_id)}
    message.send()
