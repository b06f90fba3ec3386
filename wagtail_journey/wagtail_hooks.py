"""Registers wagtail_journey's admin pieces; all logic lives outside this file."""

from wagtail.snippets.models import register_snippet
from wagtail_modeladmin.options import modeladmin_register

from wagtail_journey.admin.consent import ConsentPurposeViewSet
from wagtail_journey.admin.contacts import JourneyAdminGroup

modeladmin_register(JourneyAdminGroup)
register_snippet(ConsentPurposeViewSet)
