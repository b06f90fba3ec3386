"""The contact page's privacy panel: ``{% journey_privacy_panel contact %}``.

A tag (not a view) so the contact page only needs one line for it; rendering
it logs the staff member's view of the contact in the audit log (once per
request): the contact page is where contacts are viewed.
"""

from django import template

from wagtail_journey.admin.privacy import panel_context

register = template.Library()


@register.inclusion_tag("wagtail_journey/admin/contact_privacy_panel.html", takes_context=True)
def journey_privacy_panel(context, contact):
    return panel_context(context["request"], contact)
