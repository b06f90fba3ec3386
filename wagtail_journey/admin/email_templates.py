"""Email templates as snippets: drafts, revisions, live preview (thin glue)."""

from django.utils.translation import gettext_lazy as _
from wagtail.snippets.views.snippets import SnippetViewSet

from wagtail_journey.models import EmailTemplate


class EmailTemplateViewSet(SnippetViewSet):
    model = EmailTemplate
    icon = "mail"
    menu_label = _("Email templates")
    add_to_admin_menu = False
    list_display = ["name", "subject", "purpose", "transactional", "language", "live"]
    list_filter = ["transactional", "language", "live"]
    search_fields = ["name", "subject"]
