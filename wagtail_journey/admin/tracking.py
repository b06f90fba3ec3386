"""Journey stages of pages and sections, edited as a snippet listing."""

from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel

from wagtail_journey.admin.base import JourneySnippetViewSet
from wagtail_journey.models import PageJourneyStage


class PageJourneyStageViewSet(JourneySnippetViewSet):
    model = PageJourneyStage
    icon = "site"
    menu_label = _("Page journey stages")
    add_to_admin_menu = False
    list_display = ["page", "stage", "include_descendants"]
    list_filter = ["stage"]
    panels = [FieldPanel("page"), FieldPanel("stage"), FieldPanel("include_descendants")]
