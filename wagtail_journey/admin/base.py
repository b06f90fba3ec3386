"""Base classes of the package's admin listings: what every listing must do.

- every URL checks a permission on the model (:mod:`wagtail_journey.admin.guard`);
- *view* is read access (:class:`~wagtail_journey.admin.permissions.JourneyPermissionHelper`);
- CSV exports are formula-safe (:mod:`wagtail_journey.admin.exports`);
- a listing's query string only filters by the listing's declared filters:
  anything else (a field lookup typed into the URL, a date that does not
  exist) resets the filters with a message instead of a server error, and
  cannot be used to probe fields the listing does not show.

ModelAdmins are guarded by the Journey group they are listed in; the
tests in tests/test_admin_permissions.py and tests/test_csv_exports.py check
every admin URL of the package, whichever class it comes from.
"""

from django.contrib import messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from wagtail.snippets.views.chooser import SnippetChooserViewSet
from wagtail.snippets.views.snippets import IndexView as SnippetIndexView
from wagtail.snippets.views.snippets import SnippetViewSet
from wagtail_modeladmin.options import ModelAdmin
from wagtail_modeladmin.views import IndexView as ModelAdminIndexView

from wagtail_journey.admin.exports import FormulaSafeExportMixin
from wagtail_journey.admin.guard import guard_urls
from wagtail_journey.admin.permissions import JourneyPermissionHelper


class JourneyIndexView(FormulaSafeExportMixin, ModelAdminIndexView):
    """wagtail-modeladmin's listing, which otherwise applies any lookup in the
    query string (``?contact__email__startswith=a``) and answers 500 when one
    is invalid."""

    def get_filters(self, request):
        specs, has_filters, remaining, use_distinct = super().get_filters(request)
        if remaining:  # not one of the listing's filters
            raise IncorrectLookupParameters(sorted(remaining))
        return specs, has_filters, remaining, use_distinct

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        except IncorrectLookupParameters:
            messages.error(request, _("These filters are not valid; they have been cleared."))
            return redirect(request.path)


class JourneySnippetIndexView(FormulaSafeExportMixin, SnippetIndexView):
    pass


class JourneyModelAdmin(ModelAdmin):
    """Read with any model permission, export safe CSV. Put it in ``JourneyAdminGroup``:
    the group guards the URLs of each of its ModelAdmins."""

    permission_helper_class = JourneyPermissionHelper
    index_view_class = JourneyIndexView


class GuardedSnippetChooserViewSet(SnippetChooserViewSet):
    def get_urlpatterns(self):
        return guard_urls(super().get_urlpatterns(), self.model)


class JourneySnippetViewSet(SnippetViewSet):
    """A snippet viewset whose every URL (its chooser's too) needs a permission on the model."""

    chooser_viewset_class = GuardedSnippetChooserViewSet
    index_view_class = JourneySnippetIndexView

    def get_urlpatterns(self):
        return guard_urls(super().get_urlpatterns(), self.model)
