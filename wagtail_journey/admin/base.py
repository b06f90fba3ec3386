"""Base classes of the package's admin listings: what every listing must do.

- every URL checks a permission on the model (:mod:`wagtail_journey.admin.guard`);
- *view* is read access (:class:`~wagtail_journey.admin.permissions.JourneyPermissionHelper`);
- CSV exports are formula-safe (:mod:`wagtail_journey.admin.exports`).

ModelAdmins are guarded by the Journey group they are listed in; the
tests in tests/test_admin_permissions.py and tests/test_csv_exports.py check
every admin URL of the package, whichever class it comes from.
"""

from wagtail.snippets.views.chooser import SnippetChooserViewSet
from wagtail.snippets.views.snippets import SnippetViewSet
from wagtail_modeladmin.options import ModelAdmin

from wagtail_journey.admin.exports import SafeModelAdminIndexView, SafeSnippetIndexView
from wagtail_journey.admin.guard import guard_urls
from wagtail_journey.admin.permissions import JourneyPermissionHelper


class JourneyModelAdmin(ModelAdmin):
    """Read with any model permission, export safe CSV. Put it in ``JourneyAdminGroup``:
    the group guards the URLs of each of its ModelAdmins."""

    permission_helper_class = JourneyPermissionHelper
    index_view_class = SafeModelAdminIndexView


class GuardedSnippetChooserViewSet(SnippetChooserViewSet):
    def get_urlpatterns(self):
        return guard_urls(super().get_urlpatterns(), self.model)


class JourneySnippetViewSet(SnippetViewSet):
    """A snippet viewset whose every URL (its chooser's too) needs a permission on the model."""

    chooser_viewset_class = GuardedSnippetChooserViewSet
    index_view_class = SafeSnippetIndexView

    def get_urlpatterns(self):
        return guard_urls(super().get_urlpatterns(), self.model)
