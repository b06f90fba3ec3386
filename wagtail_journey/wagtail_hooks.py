"""Registers wagtail_journey's admin pieces; all logic lives outside this file."""

from django.templatetags.static import static
from django.utils.html import format_html
from wagtail import hooks
from wagtail.snippets.models import register_snippet
from wagtail_modeladmin.options import modeladmin_register

from wagtail_journey.admin import contact_bulk, report_urls
from wagtail_journey.admin import privacy as privacy_admin
from wagtail_journey.admin.consent import ConsentPurposeViewSet
from wagtail_journey.admin.contact_listing import ContactViewSet
from wagtail_journey.admin.contacts import JourneyAdminGroup
from wagtail_journey.admin.dashboard import construct_homepage_panels
from wagtail_journey.admin.email_templates import EmailTemplateViewSet, register_log_actions
from wagtail_journey.admin.flows import (
    FlowViewSet,
    register_flow_log_actions,
)
from wagtail_journey.admin.flows import (
    refuse_deleting_used_templates as refuse_deleting_flow_templates,
)
from wagtail_journey.admin.outbox import (
    BroadcastViewSet,
    OutboxViewSet,
    SuppressionViewSet,
    refuse_deleting_used_templates,
    register_broadcast_log_actions,
)
from wagtail_journey.admin.tracking import PageJourneyStageViewSet
from wagtail_journey.privacy import audit as privacy_audit
from wagtail_journey.serving import serve_forms
from wagtail_journey.tracking.pageviews import wrap_serve

register_snippet(ContactViewSet)  # before the group, whose menu lists it
modeladmin_register(JourneyAdminGroup)
for _action in contact_bulk.BULK_ACTIONS:
    hooks.register("register_bulk_action", _action)
hooks.register("register_log_actions", contact_bulk.register_log_actions)
register_snippet(PageJourneyStageViewSet)
# Inside Wagtail's view-restriction check (order 0): restricted pages are not counted.
hooks.register("on_serve_page", wrap_serve, order=100)
# Form blocks in any page type: between the two, so restricted pages take no
# posts and a page with forms is rendered (and counted) inside its scope.
hooks.register("on_serve_page", serve_forms, order=50)
register_snippet(ConsentPurposeViewSet)
register_snippet(EmailTemplateViewSet)
hooks.register("register_log_actions", register_log_actions)
register_snippet(OutboxViewSet)
register_snippet(SuppressionViewSet)
register_snippet(BroadcastViewSet)
hooks.register("register_log_actions", register_broadcast_log_actions)
hooks.register("before_delete_snippet", refuse_deleting_used_templates)
register_snippet(FlowViewSet)
hooks.register("register_log_actions", register_flow_log_actions)
hooks.register("before_delete_snippet", refuse_deleting_flow_templates)

# Data-subject rights: the contact page's privacy actions, bulk erasure, audit actions.
hooks.register("register_admin_urls", privacy_admin.urls)
hooks.register("register_log_actions", privacy_audit.register_log_actions)
hooks.register("register_settings_menu_item", privacy_admin.erase_menu_item)

# Reports: dashboard, landing pages, funnel and drop-off (admin/report_urls.py).
hooks.register("register_admin_urls", report_urls.urls)
hooks.register("register_permissions", report_urls.permissions)
hooks.register("construct_homepage_panels", construct_homepage_panels)
for _hook in report_urls.menu_item_hooks():
    hooks.register("register_reports_menu_item", _hook)


@hooks.register("insert_global_admin_css")
def _report_css():
    return format_html(
        '<link rel="stylesheet" href="{}">', static("wagtail_journey/css/reports.css")
    )
