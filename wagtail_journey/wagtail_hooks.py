"""Registers wagtail_journey's admin pieces; all logic lives outside this file."""

from wagtail_modeladmin.options import modeladmin_register

from wagtail_journey.admin.contacts import JourneyAdminGroup

modeladmin_register(JourneyAdminGroup)
