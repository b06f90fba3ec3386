"""A message built in code, registered the way a site registers its own.

The demo's newsletter (``queue(message="demo_newsletter", ...)``) shows how a
site sends a code-built marketing message through the pipeline. Editors' own
emails are templates in the admin.
"""

from django.utils.html import escape

from wagtail_journey.emails.messages import BuiltMessage


def build_newsletter(outbound, links) -> BuiltMessage:
    name = outbound.context.get("first_name") or "there"
    url = links.get("unsubscribe", "")
    # Every message gets the recipient's preference-centre link in ``links``.
    prefs = links.get("preferences", "")
    return BuiltMessage(
        subject=f"News for {name}",
        text=(
            f"Hello {name}!\n\nThis month at the demo shop...\n\nUnsubscribe: {url}\n"
            f"Manage your preferences: {prefs}\n"
        ),
        html=(
            f"<p>Hello {escape(name)}!</p><p>This month at the demo shop...</p>"
            f'<p><a href="{escape(url)}">Unsubscribe</a> · '
            f'<a href="{escape(prefs)}">Manage your preferences</a></p>'
        ),
    )
