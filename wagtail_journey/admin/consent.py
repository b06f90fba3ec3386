"""Consent purposes as snippets: editors write the checkbox text, versions are kept."""

from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import Panel
from wagtail.admin.ui.tables import BooleanColumn

from wagtail_journey.admin.base import JourneySnippetViewSet
from wagtail_journey.models import ConsentPurpose


class VersionHistoryPanel(Panel):
    """Read-only list of a purpose's versions (what earlier visitors saw)."""

    class BoundPanel(Panel.BoundPanel):
        template_name = "wagtail_journey/admin/purpose_versions_panel.html"

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            instance = self.instance
            context["versions"] = instance.versions.all() if instance and instance.pk else []
            return context


class ConsentPurposeViewSet(JourneySnippetViewSet):
    model = ConsentPurpose
    icon = "tick-inverse"
    menu_label = _("Consent purposes")
    add_to_admin_menu = False
    list_display = [
        "name",
        "key",
        "version",
        *(
            BooleanColumn(name, label=capfirst(ConsentPurpose._meta.get_field(name).verbose_name))
            for name in ("required", "double_opt_in", "is_marketing")
        ),
    ]
    inspect_view_enabled = True
    inspect_view_fields = ["name", "key", "text", "required", "double_opt_in", "version"]

    def get_edit_handler(self):
        from wagtail.admin.panels import ObjectList

        return ObjectList(
            [*ConsentPurpose.panels, VersionHistoryPanel(heading=_("Versions"))]
        ).bind_to_model(self.model)
