"""Registers wagtail_journey's admin pieces; all logic lives outside this file."""

from wagtail import hooks
from wagtail.snippets.models import register_snippet
from wagtail_modeladmin.options import modeladmin_register

from wagtail_journey.admin.consent import ConsentPurposeViewSet
from wagtail_journey.admin.contacts import JourneyAdminGroup
from wagtail_journey.admin.email_templates import EmailTemplateViewSet, register_log_actions
from wagtail_journey.admin.outbox import (
    BroadcastViewSet,
    OutboxViewSet,
    SuppressionViewSet,
    refuse_deleting_used_templates,
    register_broadcast_log_actions,
)
from wagtail_journey.admin.tracking import PageJourneyStageViewSet
from wagtail_journey.tracking.pageviews import wrap_serve

modeladmin_register(JourneyAdminGroup)
register_snippet(PageJourneyStageViewSet)
# Inside Wagtail's view-restriction check (order 0): restricted pages are not counted.
hooks.register("on_serve_page", wrap_serve, order=100)
register_snippet(ConsentPurposeViewSet)
register_snippet(EmailTemplateViewSet)
hooks.register("register_log_actions", register_log_actions)
register_snippet(OutboxViewSet)
register_snippet(SuppressionViewSet)
register_snippet(BroadcastViewSet)
hooks.register("register_log_actions", register_broadcast_log_actions)
hooks.register("before_delete_snippet", refuse_deleting_used_templates)
